"""A STAND-IN for the Kubeflow Pipelines v2beta1 REST API, for tests only (no KFP server runs here).

A real HTTP server in a thread serving the endpoints ``kfp.Client`` uses to submit and that
tracking and cancelling use: healthz, list/upload pipelines, upload versions, list/create
experiments, create, get and terminate runs. Its runs behave as a KFP 2.x server's with Argo
Workflows (each behaviour and its upstream source: :mod:`tests.support.kfp_workflow`, and here):

- a new run is ``PENDING`` with that state in ``state_history`` and storage state ``AVAILABLE``
  (``backend/src/apiserver/storage/run_store.go``, ``CreateRun``); ``start_run`` makes it
  ``RUNNING`` (``scheduled_at`` set), and ``finish_run`` ends it as its workflow ended, appending
  the state to ``state_history`` and setting ``finished_at`` (unset times are the Unix epoch,
  ``backend/src/apiserver/server/api_converter.go``, ``toApiRun``);
- ``POST /apis/v2beta1/runs/{id}:terminate`` moves a ``PENDING``, ``RUNNING``, ``PAUSED`` or
  unspecified run to ``CANCELING`` without adding it to ``state_history`` and refuses any other
  with an invalid-input error (``backend/src/apiserver/storage/run_store.go``, ``TerminateRun``),
  then sets the workflow's deadline to 0 (``resource/resource_manager.go``, ``TerminateRun``):
  the run ends ``FAILED``, never ``CANCELED``;
- the run's ``error`` is never set: the server sets it only when it cannot convert a record.

Tests script the workflow (``start_run``, ``run_task``, ``finish_run``); given ``kube`` (the local
cluster's :class:`~kfjupyter.k8s.client.Kube`), every pod of the run is created there, labelled
and annotated as Argo and KFP do, and runs as a real process under the process kubelet.

The contract comes from the published client, ``kfp_server_api``: every JSON request body must
use only the field names of its model class and is parsed with ``ApiClient.deserialize``; every
response is built from the model classes (``V2beta1Run``, ``V2beta1PipelineTaskDetail``...) and
serialized with ``ApiClient.sanitize_for_serialization``; uploaded packages must parse as a
``PipelineSpec`` protobuf. A drift between kfp's client and these models fails the tests.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import kfp_server_api as api
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from tests.support.kfp_workflow import EPOCH, START, Workflow

_NOW = START
#: States a run can be terminated from (storage/run_store.go, ``TerminateRun``).
TERMINABLE = ("PAUSED", "PENDING", "RUNNING", "RUNTIME_STATE_UNSPECIFIED")


class ContractError(Exception):
    """A request that the real KFP API would not accept in this shape."""


class _Raw:
    def __init__(self, data: str) -> None:
        self.data = data


_API = api.ApiClient()


def parse_model(body: bytes, model: str) -> Any:
    """Deserialize ``body`` into a ``kfp_server_api`` model, refusing unknown field names."""
    data = json.loads(body or b"{}")
    klass = getattr(api, model)
    unknown = set(data) - set(klass.attribute_map.values())
    if unknown:
        raise ContractError(f"{model} has no fields {sorted(unknown)}")
    return _API.deserialize(_Raw(json.dumps(data)), model)


def dump_model(obj: Any) -> bytes:
    """Serialize a model the way the KFP API server's JSON gateway would."""
    return json.dumps(_API.sanitize_for_serialization(obj)).encode()


class KfpStandIn:
    """The stand-in server; use as a context manager, point ``kfp.Client(host=url)`` at it."""

    def __init__(
        self,
        *,
        token: str | None = None,
        cookie: str | None = None,
        kube: Any = None,
        namespace: str = "kubeflow",
    ) -> None:
        self.token, self.cookie = token, cookie
        self.kube, self.namespace = kube, namespace
        self.workflows: dict[str, Workflow] = {}
        self.experiments: dict[str, Any] = {}
        self.pipelines: dict[str, Any] = {}
        self.versions: dict[str, Any] = {}
        self.packages: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, Any] = {}
        self.terminated: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> KfpStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # -- the workflow controller, scripted by tests ----------------------------------------------

    def start_run(self, run_id: str) -> None:
        """The run's workflow starts: ``RUNNING``."""
        with self._lock:
            self.workflows[run_id].start()
            self._set_state(run_id, "RUNNING")
            self.runs[run_id].scheduled_at = self.workflows[run_id].created

    def run_task(
        self,
        run_id: str,
        task: str,
        *,
        exits: tuple[int | None, ...] = (0,),
        logs: tuple[str, ...] | None = None,
        retry: bool | None = None,
    ) -> list[str]:
        """Run KFP task ``task`` (e.g. ``step-make``), one attempt per exit code; return its pod names.

        ``None`` as the last exit code leaves the attempt running. ``retry`` (default: more than one
        attempt) gives the task a retry policy. With a cluster, each attempt's pod prints its log
        line and exits with its code, and the call waits for it.
        """
        texts = list(logs or [f"{task} attempt {i}" for i in range(len(exits))])
        wf = self.workflows[run_id]
        with self._lock:
            if self.runs[run_id].state != "RUNNING":
                raise AssertionError(f"run {run_id} is {self.runs[run_id].state}; start_run it first")
        return wf.run_task(task, list(exits), texts, len(exits) > 1 if retry is None else retry)

    def complete_task(self, run_id: str, task: str, exit_code: int = 0) -> None:
        """The running attempt of ``task`` (started with ``exits=(None,)``) exits with ``exit_code``."""
        self.workflows[run_id].complete(task, exit_code)

    def finish_run(self, run_id: str, phase: str | None = None) -> str:
        """The workflow ends (failed when terminated or a pod failed); the run takes its state."""
        with self._lock:
            ended = self.workflows[run_id].finish(phase)
            state = "SUCCEEDED" if ended == "Succeeded" else "FAILED"
            self._set_state(run_id, state)
            self.runs[run_id].finished_at = self.workflows[run_id].now()
            return state

    def _set_state(self, run_id: str, state: str) -> None:
        """A state reported by the persistence agent: the run's state, appended to its history."""
        run = self.runs[run_id]
        run.state = state
        run.state_history = [
            *(run.state_history or []),
            api.V2beta1RuntimeStatus(update_time=_NOW, state=state),
        ]

    # -- endpoints ------------------------------------------------------------------------------

    def _authorized(self, headers: Any) -> bool:
        if self.token and headers.get("Authorization") != f"Bearer {self.token}":
            return False
        return not (self.cookie and self.cookie not in (headers.get("Cookie") or ""))

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes
    ) -> tuple[int, Any]:
        if (method, path) == ("GET", "/apis/v2beta1/healthz"):
            return 200, api.V2beta1GetHealthzResponse(multi_user=False)
        if (method, path) == ("GET", "/apis/v2beta1/pipelines"):
            name = _filter_value(query, "display_name")
            found = [p for p in self.pipelines.values() if p.display_name == name]
            return 200, api.V2beta1ListPipelinesResponse(pipelines=found or None, total_size=len(found))
        if (method, path) == ("POST", "/apis/v2beta1/pipelines/upload"):
            spec = _package(headers, body)
            pipeline = api.V2beta1Pipeline(
                pipeline_id=str(uuid.uuid4()), display_name=query["name"], created_at=_NOW
            )
            self.pipelines[pipeline.pipeline_id] = pipeline
            self._add_version(pipeline.pipeline_id, query["name"], spec)
            return 200, pipeline
        if (method, path) == ("POST", "/apis/v2beta1/pipelines/upload_version"):
            if query.get("pipelineid") not in self.pipelines:
                return 404, None
            return 200, self._add_version(query["pipelineid"], query["name"], _package(headers, body))
        if method == "GET" and path.startswith("/apis/v2beta1/pipelines/") and path.endswith("/versions"):
            pipeline_id = path.split("/")[4]
            if query.get("sort_by") not in (None, "created_at desc"):
                raise ContractError(f"unsupported sort_by {query['sort_by']!r}")
            found = [v for v in self.versions.values() if v.pipeline_id == pipeline_id][::-1]
            size = int(query.get("page_size") or 10)
            return 200, api.V2beta1ListPipelineVersionsResponse(
                pipeline_versions=found[:size] or None, total_size=len(found)
            )
        if (method, path) == ("GET", "/apis/v2beta1/experiments"):
            name = _filter_value(query, "display_name")
            found = [e for e in self.experiments.values() if e.display_name == name]
            return 200, api.V2beta1ListExperimentsResponse(experiments=found or None, total_size=len(found))
        if (method, path) == ("POST", "/apis/v2beta1/experiments"):
            exp = parse_model(body, "V2beta1Experiment")
            if not exp.display_name:
                raise ContractError("an experiment needs a display_name")
            exp.experiment_id, exp.created_at = str(uuid.uuid4()), _NOW
            self.experiments[exp.experiment_id] = exp
            return 200, exp
        if (method, path) == ("POST", "/apis/v2beta1/runs"):
            return 200, self._create_run(parse_model(body, "V2beta1Run"))
        if method == "POST" and path.startswith("/apis/v2beta1/runs/") and path.endswith(":terminate"):
            run = self.runs.get(path.removeprefix("/apis/v2beta1/runs/").removesuffix(":terminate"))
            if run is None:
                return 404, None
            self.terminated.append(run.run_id)
            if run.state not in TERMINABLE:
                # The server's own answer (InvalidArgument); kfjupyter must never cause it.
                self.errors.append(f"terminate of a {run.state} run")
                message = f"Failed to terminate a run {run.run_id}. Row not found"
                return 400, api.GoogleRpcStatus(code=3, message=message)
            run.state = "CANCELING"  # not added to state_history (run_store.go TerminateRun)
            self.workflows[run.run_id].terminated = True  # activeDeadlineSeconds: 0
            return 200, {}
        if method == "GET" and path.startswith("/apis/v2beta1/runs/"):
            run = self.runs.get(path.rsplit("/", 1)[1])
            if run is None:
                return 404, None
            details = self.workflows[run.run_id].task_details()
            run.run_details = api.V2beta1RunDetails(task_details=details or None)
            return 200, run
        return 404, None

    def _add_version(self, pipeline_id: str, name: str, spec: dict[str, Any]) -> Any:
        version = api.V2beta1PipelineVersion(
            pipeline_id=pipeline_id, pipeline_version_id=str(uuid.uuid4()), display_name=name, created_at=_NOW
        )
        self.versions[version.pipeline_version_id] = version
        self.packages[version.pipeline_version_id] = spec
        return version

    def _create_run(self, run: Any) -> Any:
        if run.experiment_id not in self.experiments:
            raise ContractError(f"unknown experiment {run.experiment_id!r}")
        ref = run.pipeline_version_reference
        if ref is None or ref.pipeline_id not in self.pipelines:
            raise ContractError("a run needs pipeline_version_reference.pipeline_id of an uploaded pipeline")
        versions = [v for v in self.versions.values() if v.pipeline_id == ref.pipeline_id]
        version = self.versions.get(ref.pipeline_version_id) if ref.pipeline_version_id else versions[-1]
        if version is None or version.pipeline_id != ref.pipeline_id:
            raise ContractError(f"unknown pipeline version {ref.pipeline_version_id!r}")
        declared = self.packages[version.pipeline_version_id]["root"].get("inputDefinitions", {})
        given = set((run.runtime_config.parameters or {}) if run.runtime_config else {})
        if given - set(declared.get("parameters", {})):
            raise ContractError(f"parameters {sorted(given)} not declared by the pipeline")
        run.run_id, run.created_at, run.state = str(uuid.uuid4()), _NOW, "PENDING"
        run.scheduled_at = run.finished_at = EPOCH
        run.state_history = [api.V2beta1RuntimeStatus(update_time=_NOW, state="PENDING")]
        run.storage_state = "AVAILABLE"
        spec = self.packages[version.pipeline_version_id]
        name = str(spec["pipelineInfo"]["name"])
        image = next(iter(spec["deploymentSpec"]["executors"].values()))["container"]["image"]
        suffix = uuid.uuid4().hex[:5]  # metadata.generateName: "<pipeline name>-" + 5 characters
        self.workflows[run.run_id] = Workflow(
            f"{name}-{suffix}", run.run_id, self.namespace, image, _NOW, kube=self.kube
        )
        run.pipeline_version_reference = api.V2beta1PipelineVersionReference(
            pipeline_id=ref.pipeline_id, pipeline_version_id=version.pipeline_version_id
        )
        self.runs[run.run_id] = run
        return run

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with standin._lock:
                    standin.requests.append((method, url.path))
                    try:
                        if not standin._authorized(self.headers):
                            status, payload = 401, api.GoogleRpcStatus(code=16, message="unauthenticated")
                        else:
                            status, payload = standin._route(method, url.path, query, self.headers, body)
                    except (ContractError, ValueError, KeyError, json_format.ParseError) as exc:
                        standin.errors.append(f"{method} {url.path}: {exc!r}")
                        status, payload = 400, api.GoogleRpcStatus(code=3, message=str(exc))
                data = dump_model(payload if payload is not None else api.GoogleRpcStatus(code=5))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler


def _filter_value(query: dict[str, str], key: str) -> str | None:
    predicates = json.loads(query.get("filter") or "{}").get("predicates", [])
    for predicate in predicates:
        api.V2beta1Predicate(
            operation=predicate.get("operation"),
            key=predicate.get("key"),
            string_value=predicate.get("stringValue"),
        )
        if predicate.get("key") == key:
            value: str | None = predicate.get("stringValue")
            return value
    return None


def _package(headers: Any, body: bytes) -> dict[str, Any]:
    """The uploaded ``uploadfile`` part, checked to be a KFP ``PipelineSpec`` (YAML)."""
    head = f"Content-Type: {headers.get('Content-Type')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "uploadfile":
            payload = part.get_payload(decode=True)
            docs = list(yaml.safe_load_all(payload))
            spec = pipeline_spec_pb2.PipelineSpec()
            json_format.ParseDict(docs[0], spec)
            if not spec.pipeline_info.name:
                raise ContractError("the package has no pipelineInfo.name")
            return dict(docs[0])
    raise ContractError("no uploadfile part in the upload")
