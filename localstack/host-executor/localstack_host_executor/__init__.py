"""LocalStack's Lambda without Docker: the `host` runtime executor.

LocalStack community runs each Lambda execution environment in a container, with its own
Runtime API server (the "init") inside. This executor runs the function's `bootstrap` as a
process of this host instead, against a Runtime API this module serves on a loopback port.
Only custom runtimes (`provided.*`) of the host's architecture can run this way: a `bootstrap`
is then a native program that needs nothing but the Runtime API.
"""

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class HostRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "host"

    def load(self, *args, **kwargs):
        from localstack_host_executor.executor import HostRuntimeExecutor

        return HostRuntimeExecutor
