"""A stand-in for an OpenTelemetry collector's OTLP/HTTP metrics receiver, for
tests/system/otlp.rs: an HTTP server on 127.0.0.1 (a free port, printed first, alone on its line)
that takes `POST /v1/metrics` with an `ExportMetricsServiceRequest` in protobuf, decodes it with
the OpenTelemetry project's own generated classes (PyPI's opentelemetry-proto), answers an empty
`ExportMetricsServiceResponse`, and prints every data point as one JSON line on stdout:

    {"export": 3, "resource": {"service.name": "unknown_service"}, "scope": "rocket-flask-jwt",
     "scope_version": "0.1.0", "name": "jwt.requests", "unit": "{request}", "kind": "sum",
     "monotonic": true, "temporality": "cumulative",
     "attributes": {"profile": "extended", "route": "/protected", ...}, "value": 1}

`export` numbers the requests from 1. A request it cannot decode is answered 400 and reported
as `{"error": ...}`. It runs until killed (or its stdin closes).
"""

import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality

LOCK = threading.Lock()
EXPORTS = 0


def any_value(value):
    """An `AnyValue` as JSON."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def attributes(pairs):
    return {pair.key: any_value(pair.value) for pair in pairs}


def points(metric):
    """The metric's kind, its flags and data points."""
    kind = metric.WhichOneof("data")
    data = getattr(metric, kind)
    flags = {"kind": kind}
    if kind in ("sum", "histogram", "exponential_histogram"):
        flags["temporality"] = AggregationTemporality.Name(
            data.aggregation_temporality
        ).removeprefix("AGGREGATION_TEMPORALITY_").lower()
    if kind == "sum":
        flags["monotonic"] = data.is_monotonic
    out = []
    for point in data.data_points:
        entry = dict(flags)
        entry["attributes"] = attributes(point.attributes)
        entry["start_time_unix_nano"] = point.start_time_unix_nano
        entry["time_unix_nano"] = point.time_unix_nano
        if kind in ("sum", "gauge"):
            entry["value"] = getattr(point, point.WhichOneof("value"))
        elif kind == "histogram":
            entry["count"] = point.count
            entry["sum"] = point.sum
        out.append(entry)
    return out


def lines(request, export):
    """One JSON object per data point of `request`."""
    for resource_metrics in request.resource_metrics:
        resource = attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in points(metric):
                    yield {
                        "export": export,
                        "resource": resource,
                        "scope": scope_metrics.scope.name,
                        "scope_version": scope_metrics.scope.version,
                        "name": metric.name,
                        "description": metric.description,
                        "unit": metric.unit,
                        **point,
                    }


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        global EXPORTS
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path != "/v1/metrics":
            self.answer(404, b"", "text/plain")
            return
        if self.headers.get("Content-Type") != "application/x-protobuf":
            self.report({"error": f"Content-Type {self.headers.get('Content-Type')!r}"})
            self.answer(415, b"", "text/plain")
            return
        request = ExportMetricsServiceRequest()
        try:
            request.ParseFromString(body)
        except DecodeError as error:
            self.report({"error": f"not an ExportMetricsServiceRequest: {error}"})
            self.answer(400, b"", "text/plain")
            return
        with LOCK:
            EXPORTS += 1
            export = EXPORTS
            for line in lines(request, export):
                print(json.dumps(line, sort_keys=True), flush=True)
        response = ExportMetricsServiceResponse().SerializeToString()
        self.answer(200, response, "application/x-protobuf")

    def report(self, entry):
        with LOCK:
            print(json.dumps(entry, sort_keys=True), flush=True)

    def answer(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        sys.stderr.write("collector: " + (format % args) + "\n")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Ends with its stdin (the test closes it, or dies).
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
