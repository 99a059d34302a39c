#!/usr/bin/env python3
"""Starts the pipeline of this solution.zip on its orchestrator (Graphene's generic parallel
orchestrator): get_status; initialize with blueprint.json, dockerinfo.json and microservice/*.proto
unless it is already initialized or running; then run. deploy.sh calls it; you can too.

Usage:
    python3 orchestrator_client/orchestrator_client.py HOST:PORT
    python3 orchestrator_client/orchestrator_client.py --print-initialize-body

The first form needs the grpcio package (pip install grpcio) and nothing else: the few messages of
protobuf/orchestrator.proto are encoded here by hand, so no generated code or protobuf package is
needed. The second form prints the initialize request as JSON (for grpcurl) and needs no package.
Exit status: 0 running, 1 refused or unreachable, 2 wrong usage.
"""
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CALL_TIMEOUT_SECONDS = 120
# The orchestrator's pod is Ready before its gRPC server listens; someone else's initialize may
# be in progress. Both are waited for, boundedly.
UNREACHABLE_ATTEMPTS = 30
INITIALIZING_ATTEMPTS = 60
RETRY_DELAY_SECONDS = 2


def read_text(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return handle.read()


def protofiles():
    """Every microservice/*.proto keyed by its file name, as the orchestrator expects."""
    folder = os.path.join(ROOT, "microservice")
    if not os.path.isdir(folder):
        return {}
    names = sorted(name for name in os.listdir(folder) if name.endswith(".proto"))
    return {name: read_text("microservice", name) for name in names}


def initialize_request():
    return {
        "blueprint": read_text("blueprint.json"),
        "dockerinfo": read_text("dockerinfo.json"),
        "protofiles": protofiles(),
        "queuesize": 0,
        "iterations": 0,
    }


# --- protobuf wire format, for the messages of orchestrator.proto only -------------------------

def encode_varint(value):
    value &= (1 << 64) - 1  # negative int32 values are sent as 10-byte two's complement
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def encode_bytes_field(number, data):
    return encode_varint(number << 3 | 2) + encode_varint(len(data)) + data


def encode_string_field(number, text):
    return encode_bytes_field(number, text.encode("utf-8")) if text else b""


def encode_varint_field(number, value):
    return encode_varint(number << 3) + encode_varint(value) if value else b""


def encode_configuration(request):
    """OrchestrationConfiguration {blueprint = 1; dockerinfo = 2; map protofiles = 3; queuesize = 4; iterations = 5}"""
    out = encode_string_field(1, request["blueprint"]) + encode_string_field(2, request["dockerinfo"])
    for name, text in request["protofiles"].items():
        # A map entry is a nested message {key = 1; value = 2}; empty values are still sent.
        entry = encode_bytes_field(1, name.encode("utf-8")) + encode_bytes_field(2, text.encode("utf-8"))
        out += encode_bytes_field(3, entry)
    return out + encode_varint_field(4, request["queuesize"]) + encode_varint_field(5, request["iterations"])


def encode_run_label(label=""):
    """RunLabel {label = 1}"""
    return encode_string_field(1, label)


def decode_varint(data, position):
    result = shift = 0
    while True:
        if position >= len(data):
            raise ValueError("truncated varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, position


def to_int32(value):
    value &= (1 << 32) - 1
    return value - (1 << 32) if value & (1 << 31) else value


def decode_status(data):
    """OrchestrationStatus {bool success = 1; int32 code = 2; string message = 3; int32 active_threads = 4}"""
    status = {"success": False, "code": 0, "message": "", "active_threads": 0}
    position = 0
    while position < len(data):
        key, position = decode_varint(data, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = decode_varint(data, position)
            if number == 1:
                status["success"] = value != 0
            elif number == 2:
                status["code"] = to_int32(value)
            elif number == 4:
                status["active_threads"] = to_int32(value)
        elif wire_type == 2:
            length, position = decode_varint(data, position)
            value = data[position:position + length]
            position += length
            if number == 3:
                status["message"] = value.decode("utf-8", errors="replace")
        elif wire_type == 1:
            position += 8
        elif wire_type == 5:
            position += 4
        else:
            raise ValueError("unsupported wire type %d" % wire_type)
    return status


# --- the start sequence --------------------------------------------------------------------

class Orchestrator:
    def __init__(self, address):
        import grpc  # imported here so --print-initialize-body works without grpcio

        self.grpc = grpc
        self.channel = grpc.insecure_channel(address)

    def call(self, method, request_bytes):
        stub = self.channel.unary_unary(
            "/Orchestrator/" + method,
            request_serializer=lambda data: data,
            response_deserializer=decode_status,
        )
        return stub(request_bytes, timeout=CALL_TIMEOUT_SECONDS)

    def status(self):
        for attempt in range(1, UNREACHABLE_ATTEMPTS + 1):
            try:
                return self.call("get_status", encode_run_label())
            except self.grpc.RpcError as error:
                if error.code() != self.grpc.StatusCode.UNAVAILABLE or attempt == UNREACHABLE_ATTEMPTS:
                    raise
                time.sleep(RETRY_DELAY_SECONDS)


def start(address):
    orchestrator = Orchestrator(address)
    status = orchestrator.status()
    for _ in range(INITIALIZING_ATTEMPTS):
        if status["message"] != "initializing...":
            break
        time.sleep(RETRY_DELAY_SECONDS)
        status = orchestrator.status()
    print("==> Orchestrator status: %s" % (status["message"] or "(empty)"))
    if status["message"] == "running":
        print("==> The pipeline is already running; nothing to start")
        return 0
    if status["message"] != "initialized":
        print("==> Initializing the orchestrator with blueprint.json, dockerinfo.json and microservice/*.proto")
        status = orchestrator.call("initialize", encode_configuration(initialize_request()))
        if status["message"] != "initialized":
            print("error: the orchestrator refused the pipeline: %s" % status["message"], file=sys.stderr)
            return 1
    print("==> Starting the pipeline")
    status = orchestrator.call("run", encode_run_label())
    if status["message"] != "running":
        print("error: the pipeline did not start: %s" % status["message"], file=sys.stderr)
        return 1
    print("==> The pipeline is running")
    return 0


def main(arguments):
    if arguments == ["--print-initialize-body"]:
        json.dump(initialize_request(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if len(arguments) != 1 or arguments[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return start(arguments[0])
    except ImportError:
        print("error: the grpcio package is missing: pip install grpcio", file=sys.stderr)
        return 1
    except Exception as error:  # an RpcError or a broken reply: say what happened, not a traceback
        describe = getattr(error, "details", None)
        detail = describe() if callable(describe) else str(error)
        print("error: calling the orchestrator at %s failed: %s" % (arguments[0], detail), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
