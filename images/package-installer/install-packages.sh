#!/usr/bin/env bash
# Slipway's package installer: the entry point of the package-installer image.
#
# The contract (src/services/packages/install-job.ts): one Kubernetes Job per node, privileged,
# with the node's root filesystem mounted at HOST_ROOT and these variables:
#   PACKAGES         `name=version` pairs separated by spaces, installed in that order;
#   PACKAGE_SOURCES  JSON `[{"name", "version", "url", "sha256"}]`: where each package is downloaded
#                    from and the sha256 of its bytes. The URL is signed by Slipway: its query string
#                    is a credential, so no URL is ever printed with its query;
#   HOST_ROOT        the node's `/` as this container sees it (`/host`).
# The exit status is the Job's outcome; on a failure Slipway shows the last 50 lines of this log.
#
# What installing a package means here:
#   1. A package is a gzip'd tar archive. It is downloaded to a temporary file in this container
#      (TMPDIR) and its sha256 is checked before anything under HOST_ROOT is touched.
#   2. The archive is refused when a member's name is absolute or has a `..` component, when a
#      member is a device node, FIFO or other special file, when a hard link points out of it,
#      or when (once unpacked) a symbolic link is absolute or points outside the package.
#   3. It is unpacked, files owned by root and modes kept, into a staging directory next to its
#      place, HOST_ROOT/opt/slipway/packages/<name>/<version>/, and renamed to that place. A
#      failure at any step removes what was unpacked and puts back what was there before.
#   4. When the archive has an executable `install.sh` at its top, it is run in this container
#      (not chrooted: it reaches the node through HOST_ROOT), in the package directory, for at most
#      INSTALL_SCRIPT_TIMEOUT seconds, with HOST_ROOT, SLIPWAY_PACKAGE_NAME,
#      SLIPWAY_PACKAGE_VERSION, SLIPWAY_PACKAGE_DIR (the directory as this container sees it) and
#      SLIPWAY_PACKAGE_HOST_DIR (as the node sees it) in its environment, and without
#      PACKAGE_SOURCES. It must be safe to run again. When it fails the package directory is
#      removed as in 3 and nothing is recorded; what the script itself changed is its own affair.
#   5. HOST_ROOT/var/lib/slipway/packages/<name> records the installed version and sha256 (written
#      with a rename). A package whose record matches and whose directory exists is skipped
#      without a download. Directories of other versions are left in place.
#   Two installers on one node take turns (a lock file next to the records).
#
# Output: one line per package, `<name>=<version>: installed` or `<name>=<version>: already
# installed`, and exit status 0. The first failure prints a line starting with `error:` and exits
# with status 1; the packages after it are not attempted.
#
# Optional settings: DOWNLOAD_MAX_TIME (seconds per download attempt, and no retry starts after
# that long; default 900),
# DOWNLOAD_RETRIES (retries of a transient failure: time-out, 408, 429, 5xx; default 3),
# INSTALL_SCRIPT_TIMEOUT (seconds, default 600), LOCK_TIMEOUT (seconds, default 600).
set -euo pipefail
umask 022

readonly PACKAGES_SUBDIR=opt/slipway/packages
readonly RECORDS_SUBDIR=var/lib/slipway/packages
# The same rules as Slipway's upload checks (src/services/packages/upload-store.ts).
readonly NAME_RE='^[a-z0-9][a-z0-9.+_-]{0,127}$'
readonly VERSION_RE='^[0-9A-Za-z][0-9A-Za-z.+~:_-]{0,127}$'
readonly SHA256_RE='^[0-9a-f]{64}$'
# No white space, control characters, quotes or backslashes: the URL goes into a curl config line.
readonly URL_RE='^https?://[^][:space:][:cntrl:]"\\[]+$'
readonly USAGE_SOURCES='PACKAGE_SOURCES must be a JSON array of {"name", "version", "url", "sha256"}'

fail() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# A setting that must be a whole number of seconds (or retries).
whole_number() {
  local name=$1 default=$2 value
  value=${!name:-$default}
  [[ $value =~ ^[0-9]{1,6}$ ]] || fail "$name must be a whole number (got \"$value\")"
  printf '%s' "$value"
}

# The URL without its query string, fragment or user information: what may be printed.
display_url() {
  local url=${1%%#*}
  url=${url%%\?*}
  if [[ $url =~ ^(https?://)[^/]*@(.*)$ ]]; then url="${BASH_REMATCH[1]}${BASH_REMATCH[2]}"; fi
  printf '%s' "$url"
}

# Text from outside (curl's messages, a server's problem detail) with every query string removed
# (the URL's own query literally, and anything that looks like one after a URL), control
# characters dropped and the length bounded.
redact() {
  local text=$1 query=$2
  if [[ -n $query ]]; then text=${text//"$query"/<redacted>}; fi
  printf '%s' "$text" | tr -d '\000-\037\177' | sed -E 's|(https?://[^?#[:space:]]*)[?#][^[:space:]]*|\1|g' | head -c 400
}

DOWNLOAD_MAX_TIME=$(whole_number DOWNLOAD_MAX_TIME 900)
DOWNLOAD_RETRIES=$(whole_number DOWNLOAD_RETRIES 3)
INSTALL_SCRIPT_TIMEOUT=$(whole_number INSTALL_SCRIPT_TIMEOUT 600)
LOCK_TIMEOUT=$(whole_number LOCK_TIMEOUT 600)

# --- The environment contract ------------------------------------------------------------------

[[ -n ${HOST_ROOT:-} ]] || fail "HOST_ROOT is not set: it must name the node's root filesystem as mounted in this container (/host)"
[[ $HOST_ROOT == /* ]] || fail "HOST_ROOT must be an absolute path (got \"$HOST_ROOT\")"
[[ -d $HOST_ROOT ]] || fail "HOST_ROOT $HOST_ROOT is not a directory: is the node's root filesystem mounted there?"
root=$(cd "$HOST_ROOT" && pwd -P)
root=${root%/}
pkg_root="$root/$PACKAGES_SUBDIR"
rec_root="$root/$RECORDS_SUBDIR"

[[ -v PACKAGES ]] || fail "PACKAGES is not set: it must list the packages to install as name=version separated by spaces"
wanted=()
IFS=$' \t\n' read -r -d '' -a wanted <<<"$PACKAGES" || true
[[ ${#wanted[@]} -gt 0 ]] || fail "PACKAGES is empty: it must list the packages to install as name=version separated by spaces"
declare -A wanted_name=()
for entry in "${wanted[@]}"; do
  [[ $entry == *=* ]] || fail "PACKAGES entry \"$entry\" must be name=version"
  name=${entry%%=*}
  version=${entry#*=}
  [[ $name =~ $NAME_RE ]] || fail "PACKAGES entry \"$entry\": the name must be lower-case letters, digits and . + _ - (starting with a letter or digit, at most 128)"
  [[ $version =~ $VERSION_RE ]] || fail "PACKAGES entry \"$entry\": the version must be letters, digits and . + ~ : _ - (starting with a letter or digit, at most 128)"
  [[ -z ${wanted_name[$name]:-} ]] || fail "PACKAGES names $name twice (${wanted_name[$name]} and $entry)"
  wanted_name[$name]=$entry
done

[[ -v PACKAGE_SOURCES ]] || fail "PACKAGE_SOURCES is not set: $USAGE_SOURCES"
[[ -n ${PACKAGE_SOURCES//[[:space:]]/} ]] || fail "PACKAGE_SOURCES is empty: $USAGE_SOURCES"
# The value is never printed: its URLs carry signatures.
jq empty >/dev/null 2>&1 <<<"$PACKAGE_SOURCES" || fail "PACKAGE_SOURCES is not valid JSON: $USAGE_SOURCES"
shape_problem=$(jq -r -s '
  if length != 1 then "PACKAGE_SOURCES must be one JSON value"
  elif (.[0] | type) != "array" then "PACKAGE_SOURCES must be a JSON array, not \(.[0] | type)"
  else first(.[0] | to_entries[] | .key as $i | .value
    | if type != "object" then "PACKAGE_SOURCES[\($i)] must be an object with name, version, url and sha256"
      else ["name", "version", "url", "sha256"][] as $k
        | select((.[$k] | type) != "string" or (.[$k] | tostring | test("[[:cntrl:]]")))
        | "PACKAGE_SOURCES[\($i)].\($k) must be a string without control characters" end) // empty
  end' <<<"$PACKAGE_SOURCES") || fail "PACKAGE_SOURCES could not be read: $USAGE_SOURCES"
[[ -z $shape_problem ]] || fail "$shape_problem"

declare -A source_url=() source_sha=()
index=0
while IFS=$'\x1f' read -r name version url sha; do
  [[ $name =~ $NAME_RE ]] || fail "PACKAGE_SOURCES[$index].name is not a valid package name"
  [[ $version =~ $VERSION_RE ]] || fail "PACKAGE_SOURCES[$index].version is not a valid version"
  [[ $url =~ $URL_RE ]] || fail "PACKAGE_SOURCES[$index].url must be an http:// or https:// URL"
  [[ $sha =~ $SHA256_RE ]] || fail "PACKAGE_SOURCES[$index].sha256 must be 64 hex digits"
  key="$name=$version"
  [[ -z ${source_url[$key]:-} ]] || fail "PACKAGE_SOURCES lists $key twice"
  [[ ${wanted_name[$name]:-} == "$key" ]] || fail "PACKAGE_SOURCES[$index] is $key, which PACKAGES does not name"
  source_url[$key]=$url
  source_sha[$key]=$sha
  index=$((index + 1))
done < <(jq -r '.[] | [.name, .version, .url, (.sha256 | ascii_downcase)] | join("\u001f")' <<<"$PACKAGE_SOURCES")
for entry in "${wanted[@]}"; do
  [[ -n ${source_url[$entry]:-} ]] || fail "PACKAGE_SOURCES has no entry for $entry (each package needs its url and sha256)"
done

# --- Clean-up: whatever is half-done when the script stops is undone ---------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/slipway-packages.XXXXXX")
staging=''      # unpacked, not yet in its place
placed=''       # the place of a package installed but not yet recorded
displaced=''    # what was in that place before, to be put back
lock_taken=''

cleanup() {
  if [[ -n $staging ]]; then rm -rf -- "$staging" || true; fi
  if [[ -n $placed ]]; then
    rm -rf -- "$placed" || true
    if [[ -n $displaced ]]; then mv -T -- "$displaced" "$placed" || true; fi
  fi
  rm -rf -- "$work" || true
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# --- Steps ------------------------------------------------------------------------------------

# True when the record of `name` says `version` with `sha` and its directory is there.
is_installed() {
  local name=$1 version=$2 sha=$3 file="$rec_root/$1" line recorded_version='' recorded_sha=''
  [[ -f $file && -d "$pkg_root/$name/$version" ]] || return 1
  while IFS= read -r line || [[ -n $line ]]; do
    case $line in
      version=*) recorded_version=${line#version=} ;;
      sha256=*) recorded_sha=${line#sha256=} ;;
    esac
  done <"$file"
  [[ $recorded_version == "$version" && $recorded_sha == "$sha" ]]
}

download() {
  local key=$1 url=$2 dest=$3 shown query='' status rc=0 detail hint=''
  shown=$(display_url "$url")
  if [[ $url == *\?* ]]; then query=${url#*\?}; query=${query%%#*}; fi
  # The URL goes to curl on its standard input, not its command line, which every process on the
  # node could read (the Job shares the host's process namespace).
  status=$(printf 'url = "%s"\n' "$url" | curl --config - --silent --show-error --fail-with-body --location \
    --proto '=http,https' --proto-redir '=http,https' --connect-timeout 30 --max-time "$DOWNLOAD_MAX_TIME" \
    --retry "$DOWNLOAD_RETRIES" --retry-delay 2 --retry-max-time "$DOWNLOAD_MAX_TIME" --retry-connrefused \
    --output "$dest" --write-out '%{http_code}' 2>"$work/curl.err") || rc=$?
  if [[ $rc -eq 0 && $status == 2?? ]]; then return 0; fi
  if [[ $status =~ ^[1-9][0-9][0-9]$ && $status != 2?? ]]; then
    detail=$(jq -r 'if type == "object" and (.detail | type) == "string" then .detail else empty end' "$dest" 2>/dev/null || true)
    case $status in
      403) hint=' (Slipway refuses an expired or altered download link: start the rollout again for fresh links)' ;;
      404) hint=' (Slipway has no such package version for this cluster)' ;;
    esac
    fail "$key: the download from $shown was refused: HTTP $status${detail:+: $(redact "$detail" "$query")}$hint"
  fi
  fail "$key: the download from $shown failed (curl exit status $rc): $(redact "$(tail -n 1 "$work/curl.err" 2>/dev/null || true)" "$query")"
}

# Refuses an archive that is not a gzip'd tar, or whose members could land outside the package.
check_archive() {
  local key=$1 file=$2 listing member line
  if ! listing=$(tar --list --gzip --file "$file" 2>"$work/tar.err"); then
    fail "$key: the package is not a gzip'd tar archive: $(head -n 1 "$work/tar.err")"
  fi
  while IFS= read -r member; do
    [[ -n $member ]] || continue
    [[ $member != /* ]] || fail "$key: the archive is refused: member $member has an absolute path"
    [[ "/$member/" != */../* ]] || fail "$key: the archive is refused: member $member has a .. component"
  done <<<"$listing"
  # GNU tar's long listing starts each member's line with its type: files, directories, symbolic
  # links (checked once unpacked) and hard links to members of the archive are allowed.
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    case ${line:0:1} in
      - | d | l) ;;
      h)
        [[ $line != *" link to /"* && $line != *" link to ../"* && $line != *" link to "*/../* ]] \
          || fail "$key: the archive is refused: a hard link points outside the package: ${line#* link to }"
        ;;
      *) fail "$key: the archive is refused: it has a special file (device node, FIFO or socket): ${line##* }" ;;
    esac
  done < <(tar --list --verbose --gzip --file "$file" 2>/dev/null)
}

# Symbolic links must stay inside the package: relative, resolving under `dir`.
check_links() {
  local key=$1 dir=$2 link target resolved
  while IFS= read -r -d '' link; do
    target=$(readlink -- "$link")
    [[ $target != /* ]] || fail "$key: the archive is refused: the symbolic link ${link#"$dir"/} points to the absolute path $target"
    resolved=$(realpath -m -- "$(dirname -- "$link")/$target")
    [[ $resolved == "$dir" || $resolved == "$dir"/* ]] || fail "$key: the archive is refused: the symbolic link ${link#"$dir"/} points outside the package ($target)"
  done < <(find "$dir" -type l -print0)
}

# The place a directory under HOST_ROOT really is must be under HOST_ROOT (a symbolic link on the
# node would resolve inside this container instead).
ensure_dir() {
  local dir=$1 resolved
  mkdir -p -- "$dir" || fail "cannot create $dir"
  resolved=$(realpath -e -- "$dir")
  if [[ -n $root && $resolved != "$root"/* ]]; then
    fail "$dir resolves to $resolved, outside HOST_ROOT (a symbolic link on the node?): refusing to install there"
  fi
}

take_lock() {
  [[ -z $lock_taken ]] || return 0
  ensure_dir "$pkg_root"
  ensure_dir "$rec_root"
  exec {lock_fd}>"$rec_root/.lock"
  flock --wait "$LOCK_TIMEOUT" "$lock_fd" || fail "another package installer kept $rec_root/.lock for $LOCK_TIMEOUT s"
  lock_taken=yes
}

# Leftovers of an installer that was killed: staging directories go, a displaced directory comes
# back when its place is empty.
tidy_leftovers() {
  local dir=$1 version=$2 leftover
  for leftover in "$dir"/.staging.*; do
    if [[ -e $leftover ]]; then rm -rf -- "$leftover"; fi
  done
  for leftover in "$dir/.old.$version".*; do
    [[ -e $leftover ]] || continue
    if [[ ! -e $dir/$version ]]; then mv -T -- "$leftover" "$dir/$version"; else rm -rf -- "$leftover"; fi
  done
}

write_record() {
  local name=$1 version=$2 sha=$3 tmp
  tmp=$(mktemp "$rec_root/.$name.XXXXXX")
  printf 'name=%s\nversion=%s\nsha256=%s\npath=/%s/%s/%s\ninstalled_at=%s\n' \
    "$name" "$version" "$sha" "$PACKAGES_SUBDIR" "$name" "$version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$tmp"
  chmod 0644 "$tmp"
  mv -f -- "$tmp" "$rec_root/$name"
}

install_one() {
  local key=$1 name=$2 version=$3 sha=$4 archive=$5 dir final aside rc=0
  displaced=''
  dir="$pkg_root/$name"
  final="$dir/$version"
  ensure_dir "$dir"
  tidy_leftovers "$dir" "$version"
  staging=$(mktemp -d "$dir/.staging.XXXXXX")
  staging=$(realpath -e -- "$staging")
  if ! tar --extract --gzip --file "$archive" --directory "$staging" --no-same-owner 2>"$work/tar.err"; then
    fail "$key: unpacking failed: $(head -n 1 "$work/tar.err")"
  fi
  check_links "$key" "$staging"
  chmod 0755 "$staging"

  # From here until the record is written, a failure puts back what was there before.
  if [[ -e $final || -L $final ]]; then
    aside=$(mktemp -u "$dir/.old.$version.XXXXXX")
    mv -T -- "$final" "$aside"
    displaced=$aside
  fi
  placed=$final
  mv -T -- "$staging" "$final"
  staging=''

  if [[ -f $final/install.sh && -x $final/install.sh ]]; then
    echo "$key: running install.sh"
    (
      cd "$final"
      exec {lock_fd}>&-
      exec env -u PACKAGE_SOURCES -u PACKAGES HOST_ROOT="$HOST_ROOT" \
        SLIPWAY_PACKAGE_NAME="$name" SLIPWAY_PACKAGE_VERSION="$version" \
        SLIPWAY_PACKAGE_DIR="$final" SLIPWAY_PACKAGE_HOST_DIR="/$PACKAGES_SUBDIR/$name/$version" \
        timeout "$INSTALL_SCRIPT_TIMEOUT" ./install.sh
    ) </dev/null || rc=$?
    if [[ $rc -eq 124 ]]; then fail "$key: install.sh did not finish in $INSTALL_SCRIPT_TIMEOUT s; the package was removed again"; fi
    if [[ $rc -ne 0 ]]; then fail "$key: install.sh failed with exit status $rc; the package was removed again"; fi
  fi

  write_record "$name" "$version" "$sha"
  placed=''
  if [[ -n $displaced ]]; then rm -rf -- "$displaced" || true; fi
  displaced=''
}

# --- Main -------------------------------------------------------------------------------------

for key in "${wanted[@]}"; do
  name=${key%%=*}
  version=${key#*=}
  sha=${source_sha[$key]}
  if is_installed "$name" "$version" "$sha"; then
    echo "$key: already installed"
    continue
  fi
  archive="$work/$name.tar.gz"
  download "$key" "${source_url[$key]}" "$archive"
  actual=$(sha256sum "$archive" | cut -d ' ' -f 1)
  [[ $actual == "$sha" ]] || fail "$key: sha256 mismatch: expected $sha, downloaded $actual; nothing was installed"
  check_archive "$key" "$archive"
  take_lock
  if is_installed "$name" "$version" "$sha"; then
    echo "$key: already installed"
  else
    install_one "$key" "$name" "$version" "$sha" "$archive"
    echo "$key: installed"
  fi
  rm -f -- "$archive"
done
