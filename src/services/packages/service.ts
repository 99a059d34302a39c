import type { Readable } from 'node:stream';
import type { Config } from '../../config.js';
import { inTransaction, type Pool } from '../../adapters/db/pool.js';
import type { Principal } from '../../http/auth/jwt.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { JobRecord } from '../../jobs/model.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import type { ClusterService } from '../clusters/service.js';
import { activeRollout, insertPackage, listPackages, packageExists, packageFile, rolloutJobOf, setRolloutJob, type PackageRecord } from './catalog.js';
import type { DownloadTarget } from './download-url.js';
import { enqueueRollout } from './rollout-jobs.js';
import type { PackageStore, UploadRecord, UploadStatus } from './upload-store.js';

export interface CompletedPackage {
  name: string;
  version: string;
  sha256: string;
  size: number;
  /** The rollout job a new version started (null when the version was already recorded). */
  rolloutJobId: string | null;
}

/**
 * Packages of a cluster: resumable uploads into the store, checked against the declared sha256;
 * a new version is recorded and its rollout job enqueued in one transaction.
 */
export class PackageService {
  constructor(private readonly deps: { config: Config; pool: Pool; queue: JobQueue; store: PackageStore; clusters: ClusterService }) {}

  async declare(principal: Principal, clusterId: string, isAdmin: boolean, input: { name: string; version: string; sha256: string; size: number }): Promise<UploadRecord> {
    await this.deps.clusters.get(principal, clusterId, isAdmin);
    if (await packageExists(this.deps.pool, clusterId, input.name, input.version)) {
      throw new ConflictError(`Package ${input.name} ${input.version} was already uploaded for this cluster; give the new build a new version`, 'package_exists');
    }
    return this.deps.store.createUpload({ clusterId, ...input });
  }

  async status(principal: Principal, clusterId: string, uploadId: string, isAdmin: boolean): Promise<UploadStatus> {
    await this.upload(principal, clusterId, uploadId, isAdmin);
    return this.deps.store.status(uploadId);
  }

  /** Appends a chunk; the last byte completes the upload (sha256 checked, version recorded). */
  async append(principal: Principal, clusterId: string, uploadId: string, isAdmin: boolean, offset: number, body: Readable | AsyncIterable<Uint8Array>): Promise<{ offset: number; completed?: CompletedPackage }> {
    const record = await this.upload(principal, clusterId, uploadId, isAdmin);
    const next = await this.deps.store.appendChunk(uploadId, offset, body);
    if (next < record.size) return { offset: next };
    return { offset: next, completed: await this.complete(principal, clusterId, uploadId, isAdmin) };
  }

  async complete(principal: Principal, clusterId: string, uploadId: string, isAdmin: boolean): Promise<CompletedPackage> {
    await this.upload(principal, clusterId, uploadId, isAdmin);
    const file = await this.deps.store.complete(uploadId);
    const rollout = await inTransaction(this.deps.pool, async (tx) => {
      const fresh = await insertPackage(tx, { clusterId, name: file.name, version: file.version, sha256: file.sha256, size: file.size, path: file.path, owner: principal.user });
      if (!fresh) return null;
      const job = await enqueueRollout(tx, this.deps.queue, principal.user, { clusterId, reason: `${file.name}@${file.version}` }, this.deps.config.packageInstallTimeoutMs * 10);
      await setRolloutJob(tx, clusterId, file.name, file.version, job.id);
      await recordAudit(tx, { actor: principal.user, action: 'package.upload', subjectType: 'cluster', subjectId: clusterId, result: 'accepted', detail: { name: file.name, version: file.version, sha256: file.sha256, rolloutJobId: job.id } });
      return job;
    });
    if (rollout) this.deps.queue.wake('package-rollout');
    // Completed before (the last PATCH does it): the same answer, with the rollout it started.
    const rolloutJobId = rollout?.id ?? (await rolloutJobOf(this.deps.pool, clusterId, file.name, file.version));
    return { name: file.name, version: file.version, sha256: file.sha256, size: file.size, rolloutJobId };
  }

  async discard(principal: Principal, clusterId: string, uploadId: string, isAdmin: boolean): Promise<void> {
    await this.upload(principal, clusterId, uploadId, isAdmin);
    await this.deps.store.discard(uploadId);
  }

  async list(principal: Principal, clusterId: string, isAdmin: boolean): Promise<PackageRecord[]> {
    await this.deps.clusters.get(principal, clusterId, isAdmin);
    return listPackages(this.deps.pool, clusterId);
  }

  /** The bytes behind a signed download link (the link was checked by the route). */
  async downloadFile(target: DownloadTarget): Promise<{ path: string; size: number; sha256: string }> {
    const file = await packageFile(this.deps.pool, target.clusterId, target.name, target.version);
    if (!file) throw new NotFoundError(`Package ${target.name} ${target.version} not found for this cluster`, 'package_not_found');
    return file;
  }

  async file(principal: Principal, clusterId: string, name: string, version: string, isAdmin: boolean): Promise<{ path: string; size: number; sha256: string }> {
    await this.deps.clusters.get(principal, clusterId, isAdmin);
    const file = await packageFile(this.deps.pool, clusterId, name, version);
    if (!file) throw new NotFoundError(`Package ${name} ${version} not found for this cluster`, 'package_not_found');
    return file;
  }

  /**
   * A rollout of the cluster's current packages now, to every node whose versions differ (after a
   * failed rollout, say): refused when there is nothing to roll out or a rollout is under way.
   */
  async rolloutNow(principal: Principal, clusterId: string, isAdmin: boolean): Promise<JobRecord> {
    const cluster = await this.deps.clusters.get(principal, clusterId, isAdmin);
    if (cluster.status !== 'ready') throw new ConflictError(`Cluster ${cluster.name} is ${cluster.status}, not ready: packages go only to a ready cluster`, 'cluster_not_ready');
    const job = await inTransaction(this.deps.pool, async (tx) => {
      await tx.query('SELECT id FROM clusters WHERE id = $1 FOR UPDATE', [clusterId]);
      if ((await listPackages(tx, clusterId)).length === 0) throw new ConflictError(`Cluster ${cluster.name} has no packages yet: upload one (POST /api/v1/clusters/${clusterId}/packages) and its rollout starts by itself`, 'no_packages');
      const active = await activeRollout(tx, clusterId);
      if (active !== undefined) throw new ConflictError(`A package rollout of cluster ${cluster.name} is already ${active.status} (job ${active.id}): wait for it to finish`, 'rollout_in_progress');
      const job = await enqueueRollout(tx, this.deps.queue, principal.user, { clusterId, reason: 'requested' }, this.deps.config.packageInstallTimeoutMs * 10);
      await recordAudit(tx, { actor: principal.user, action: 'package.rollout', subjectType: 'cluster', subjectId: clusterId, result: 'accepted', detail: { rolloutJobId: job.id } });
      return job;
    });
    this.deps.queue.wake('package-rollout');
    return job;
  }

  /** The upload, if it belongs to this cluster (which the caller may see). */
  private async upload(principal: Principal, clusterId: string, uploadId: string, isAdmin: boolean): Promise<UploadRecord> {
    await this.deps.clusters.get(principal, clusterId, isAdmin);
    const record = await this.deps.store.get(uploadId);
    if (record.clusterId !== clusterId) throw new NotFoundError(`Upload ${uploadId} does not exist`, 'upload_not_found');
    return record;
  }
}
