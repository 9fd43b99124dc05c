"""An execution environment whose runtime is a process of this host.

The process starts in a session of its own, as Lambda's sandboxes are apart from LocalStack:
whoever stops LocalStack with SIGKILL must stop these too, so each pid is written to
`$HOST_EXECUTOR_PID_DIR/<pid>` while it runs. What a function writes to stdout and stderr is
kept for LocalStack (CloudWatch Logs, `get_logs`) and appended to
`$HOST_EXECUTOR_LOG_DIR/<function name>.log`.
"""

import json
import logging
import os
import platform
import signal
import subprocess
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

from .runtime_api import Event, RuntimeApi

LOG = logging.getLogger(__name__)

HOST_ARCHITECTURE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[
    platform.machine().lower()
]


class HostRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.api: RuntimeApi | None = None
        self.process: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self.lines: list[str] = []
        self.lines_lock = threading.Lock()

    @property
    def code_dir(self) -> Path:
        return Path(self.function_version.config.code.get_unzipped_code_location())

    def start(self, env_vars: dict[str, str]) -> None:
        self.api = RuntimeApi(config.LAMBDA_LIMITS_MAX_FUNCTION_PAYLOAD_SIZE_BYTES)
        # Lambda gives a function only its own variables, none of the host's.
        self.env = {key: str(value) for key, value in env_vars.items()}
        self.env.update(
            AWS_LAMBDA_RUNTIME_API=self.api.address,
            LAMBDA_TASK_ROOT=str(self.code_dir),
            PATH="/usr/local/bin:/usr/bin:/bin",
        )
        self._spawn()
        self._wait_for_init()

    def _spawn(self) -> None:
        self.process = subprocess.Popen(
            [str(self.code_dir / "bootstrap")],
            cwd=self.code_dir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _pid_file(self.process.pid).touch()
        threading.Thread(
            target=self._read_output, args=(self.process,), name=f"lambda-{self.id}", daemon=True
        ).start()

    def _read_output(self, process: subprocess.Popen) -> None:
        log_dir = os.environ.get("HOST_EXECUTOR_LOG_DIR")
        log_file = None
        if log_dir:
            name = self.function_version.id.function_name
            log_file = open(Path(log_dir) / f"{name}.log", "a", buffering=1)  # noqa: SIM115
        try:
            for raw in process.stdout:
                line = raw.decode(errors="replace")
                with self.lines_lock:
                    self.lines.append(line)
                if log_file:
                    log_file.write(line)
        finally:
            if log_file:
                log_file.close()

    def _wait_for_init(self) -> None:
        """Returns once the runtime asks for its first event; raises if it fails first."""
        polls = self.api.polls
        while not self.api.wait_for_poll(polls, 0.05):
            if self.process.poll() is not None:
                raise StatusErrorException(
                    "Environment startup failed", payload=self._exit_error(None)
                )
        if self.api.init_error is not None:
            raise StatusErrorException("Environment startup failed", payload=self.api.init_error)

    def _exit_error(self, request_id: str | None) -> bytes:
        code = self.process.returncode
        status = f"signal: {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        prefix = f"RequestId: {request_id} " if request_id else ""
        LOG.warning(
            "Function %s exited (%s); its last lines:\n%s",
            self.function_version.id.function_name,
            status,
            "".join(self.lines[-5:]),
        )
        return json.dumps(
            {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"{prefix}Error: Runtime exited with error: {status}",
            }
        ).encode()

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        with self.lines_lock:
            first_line = len(self.lines)
        if self.process.poll() is not None:
            # Gone since its last invocation (timed out, crashed): Lambda starts it anew.
            self._spawn()
            try:
                self._wait_for_init()
            except StatusErrorException as error:
                return self._result(request_id, error.payload, True, first_line)
        timeout = float(self.function_version.config.timeout)
        deadline = time.monotonic() + timeout
        future = self.api.submit(
            Event(
                request_id=request_id,
                function_arn=payload["invoked-function-arn"],
                trace_id=payload.get("trace-id", ""),
                deadline_ms=int((time.time() + timeout) * 1000),
                payload=payload["payload"].encode(),
            )
        )
        while True:
            try:
                answer = future.result(timeout=0.05)
                return self._result(request_id, answer.payload, answer.is_error, first_line)
            except FutureTimeout:
                pass
            if self.process.poll() is not None:
                self.api.forget(request_id)
                return self._result(request_id, self._exit_error(request_id), True, first_line)
            if time.monotonic() > deadline:
                # Lambda stops the sandbox of a timed-out invocation.
                self.api.forget(request_id)
                self._kill()
                error = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {request_id} Error: Task timed out after"
                    f" {timeout:.2f} seconds",
                }
                return self._result(request_id, json.dumps(error).encode(), True, first_line)

    def _result(
        self, request_id: str, payload: bytes, is_error: bool, first_line: int
    ) -> InvocationResult:
        with self.lines_lock:
            logs = "".join(self.lines[first_line:])
        return InvocationResult(request_id, payload, is_error=is_error, logs=logs)

    def _kill(self) -> None:
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        if self.process:
            _pid_file(self.process.pid).unlink(missing_ok=True)

    def stop(self) -> None:
        self._kill()
        if self.api:
            self.api.close()

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        # The function runs on this host: LocalStack is where it listens.
        return config.GATEWAY_LISTEN[0].host

    def get_runtime_endpoint(self) -> str:
        return f"http://{self.api.address if self.api else '127.0.0.1'}"

    def get_logs(self) -> str:
        with self.lines_lock:
            return "".join(self.lines)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        runtime = function_version.config.runtime or ""
        if not runtime.startswith("provided"):
            raise LambdaRuntimeException(
                f"the host executor runs custom runtimes (provided.*) only, not {runtime or 'images'}"
            )
        architecture = function_version.config.architectures[0]
        if architecture != HOST_ARCHITECTURE:
            raise LambdaRuntimeException(
                f"an {architecture} function cannot run on this {HOST_ARCHITECTURE} host"
            )
        function_version.config.code.prepare_for_execution()
        bootstrap = Path(function_version.config.code.get_unzipped_code_location()) / "bootstrap"
        if not bootstrap.is_file():
            raise LambdaRuntimeException(f"the function's code has no bootstrap ({bootstrap})")
        # Zips do not always keep the executable bit (Lambda's init sets it too).
        bootstrap.chmod(0o755)

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass


def _pid_file(pid: int) -> Path:
    directory = Path(os.environ.get("HOST_EXECUTOR_PID_DIR") or "/tmp/localstack-host-executor")
    directory.mkdir(parents=True, exist_ok=True)
    return directory / str(pid)
