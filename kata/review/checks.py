"""The review's own checks: one small `ast` pass per rule, named as the rule it finds for.

Each takes the learner's `Package` and yields a `Finding` (where, and the params the rule's
title uses); the words are in messages.toml. What ruff already finds is not here (rules.py).
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Iterator

from kata.review.sources import Finding, Package, Source, enqueues, has_splat, keywords, own_nodes, short

DEFAULT_VISIBILITY_TIMEOUT = 3600  # seconds: kombu's Redis transport, unless the app sets one


KEY_NAME = re.compile(r"(?i)(^|_)api_?key$")
ENV_GETTERS = ("os.environ.get", "os.getenv", "environ.get", "os.environ.setdefault")


def hardcoded_key(package: Package) -> Iterator[Finding]:
    def literal(node: ast.AST | None) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value.strip())

    def named(node: ast.AST | None) -> str:
        if isinstance(node, ast.Name) and KEY_NAME.search(node.id):
            return node.id
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            return node.slice.value if KEY_NAME.search(node.slice.value) else ""
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY_NAME.search(node.value):
            return node.value
        return ""

    for source in package.sources:
        for node in ast.walk(source.tree):
            pairs: list[tuple[ast.AST | None, ast.AST | None]] = []
            if isinstance(node, ast.Assign):
                pairs = [(target, node.value) for target in node.targets]
            elif isinstance(node, ast.AnnAssign):
                pairs = [(node.target, node.value)]
            elif isinstance(node, ast.Dict):
                pairs = list(zip(node.keys, node.values, strict=True))
            elif isinstance(node, ast.Call):
                pairs = [(ast.Constant(kw.arg), kw.value) for kw in node.keywords if kw.arg]
                name = source.qualified(node.func)
                if (name in ENV_GETTERS or name.endswith(".environ.get")) and len(node.args) >= 2:
                    pairs.append((node.args[0], node.args[1]))
            for target, value in pairs:
                if named(target) and literal(value):
                    yield source, getattr(value, "lineno", node.lineno), {"name": named(target)}


def smtp_without_timeout(package: Package) -> Iterator[Finding]:
    for source in package.sources:
        for call, name in source.calls():
            if name in ("smtplib.SMTP", "smtplib.SMTP_SSL") and "timeout" not in keywords(call) and len(call.args) < 4 and not has_splat(call):
                yield source, call.lineno, {"call": name}


REDIS_CLIENTS = ("redis.Redis", "redis.StrictRedis", "redis.Redis.from_url", "redis.StrictRedis.from_url", "redis.from_url")


def redis_without_timeout(package: Package) -> Iterator[Finding]:
    for source in package.sources:
        for call, name in source.calls():
            given = keywords(call)
            if name in REDIS_CLIENTS and not has_splat(call) and not {"socket_timeout", "socket_connect_timeout"} & set(given):
                yield source, call.lineno, {"call": name}


def sleep_in_task(package: Package) -> Iterator[Finding]:
    for source in package.sources:
        for task, _ in source.tasks():
            for call in ast.walk(task):
                if isinstance(call, ast.Call) and source.qualified(call.func) == "time.sleep":
                    yield source, call.lineno, {"task": task.name}


SMALL_CALLS = ("int", "len", "sum", "float", "bool", "min", "max")


def _counting_functions(tree: ast.Module) -> set[str]:
    """The module's functions annotated to return a number or a flag (`-> int`)."""
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and isinstance(node.returns, ast.Name)
        and node.returns.id in ("int", "float", "bool")
    }


def _is_small(value: ast.AST, small_names: set[str], counting: set[str] | frozenset[str] = frozenset()) -> bool:
    """A number, a count or a flag: what a periodic job may fairly return (Celery logs it)."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, (int, float, bool)) or value.value is None
    if isinstance(value, ast.Name):
        return value.id in small_names
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return value.func.id in SMALL_CALLS or value.func.id in counting
    if isinstance(value, ast.BinOp):
        return _is_small(value.left, small_names, counting) and _is_small(value.right, small_names, counting)
    if isinstance(value, ast.Attribute):
        return value.attr == "rowcount"
    return False


def _small_names(task: ast.AST, counting: set[str]) -> set[str]:
    """The task's local names that only ever hold numbers (counts), by their assignments."""
    assigned: dict[str, list[ast.AST]] = {}
    for node in own_nodes(task):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            assigned.setdefault(node.target.id, []).append(node.value)
    small: set[str] = set()
    for _ in range(3):  # `count = 0`, then `count += wiped`, `wiped = len(rows)`: a few rounds settle it
        small |= {name for name, values in assigned.items() if all(_is_small(value, small, counting) for value in values)}
    return small


def task_returns_value(package: Package) -> Iterator[Finding]:
    """A task returning what nobody reads (a dict, the row, a list): said once per task. A
    count is fine: a periodic job's number of rows is what its log line shows."""
    for source in package.sources:
        counting = _counting_functions(source.tree)
        for task, _ in source.tasks():
            if task.name in counting:
                continue  # `-> int`: it says it returns a count
            small = _small_names(task, counting)
            returns = sorted(
                (node for node in own_nodes(task) if isinstance(node, ast.Return) and node.value is not None),
                key=lambda node: node.lineno,
            )
            for node in returns:
                if not _is_small(node.value, small, counting):
                    yield source, node.lineno, {"task": task.name, "value": short(node.value)}
                    break


def create_all_in_app(package: Package) -> Iterator[Finding]:
    for source in package.sources:
        for call, _ in source.calls():
            if isinstance(call.func, ast.Attribute) and call.func.attr == "create_all":
                yield source, call.lineno, {"call": short(call.func) + "()"}


def legacy_query_get(package: Package) -> Iterator[Finding]:
    """`Model.query.get(id)` or `session.query(Model).get(id)`: SQLAlchemy 1.x's Query.get."""
    for source in package.sources:
        for call, _ in source.calls():
            func = call.func
            if not (isinstance(func, ast.Attribute) and func.attr == "get"):
                continue
            query = func.value
            via_property = isinstance(query, ast.Attribute) and query.attr == "query"
            via_session = isinstance(query, ast.Call) and isinstance(query.func, ast.Attribute) and query.func.attr == "query"
            if via_property or via_session:
                yield source, call.lineno, {"call": short(func) + "()"}


def status_from_result_backend(package: Package) -> Iterator[Finding]:
    for source in package.sources:
        for call, name in source.calls():
            if name.split(".")[-1] == "AsyncResult":
                yield source, call.lineno, {"call": name}


def app_beside_celery_app(package: Package) -> Iterator[Finding]:
    """In worker.py, a module-level `app` or `celery` that is not the Celery app: `celery -A`
    takes the attribute named app, then celery, before it looks for a Celery app."""
    source = package.module("worker")
    if source is None:
        return

    def is_celery_app(value: ast.AST) -> bool:
        if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Constant) and value.slice.value == "celery":
            return True  # flask_app.extensions["celery"]
        if isinstance(value, ast.Call):
            name = source.qualified(value.func)
            return name.endswith(("Celery", "celery_init_app"))
        if isinstance(value, ast.Name):
            return "celery" in value.id.lower()
        return False

    for node in source.tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("app", "celery") and not is_celery_app(node.value):
                    yield source, node.lineno, {"name": target.id, "value": short(node.value)}
        elif isinstance(node, ast.ImportFrom) and node.module != "celery":
            for alias in node.names:
                if (alias.asname or alias.name) in ("app", "celery") and "celery" not in alias.name.lower():
                    yield source, node.lineno, {"name": alias.asname or alias.name, "value": f"from {node.module} import {alias.name}"}


def result_get_in_request(package: Package) -> Iterator[Finding]:
    for source in package.sources:
        tasks = {task for task, _ in source.tasks()}
        for function in ast.walk(source.tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or function in tasks:
                continue
            results: set[str] = set()
            for node in own_nodes(function):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and enqueues(node.value) is node.value:
                    results |= {target.id for target in node.targets if isinstance(target, ast.Name)}
            for node in own_nodes(function):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "wait")):
                    continue
                owner = node.func.value
                queued = isinstance(owner, ast.Call) and enqueues(owner) is owner
                if queued or (isinstance(owner, ast.Name) and owner.id in results):
                    yield source, node.lineno, {"function": function.name, "call": short(node)}


BROAD = ("Exception", "BaseException", "builtins.Exception", "builtins.BaseException")


def broad_except_around_delay(package: Package) -> Iterator[Finding]:
    for source in package.sources:
        for node in ast.walk(source.tree):
            if not isinstance(node, ast.Try):
                continue
            queued = next(filter(None, map(enqueues, node.body)), None)
            if queued is None:
                continue
            for handler in node.handlers:
                caught = handler.type
                names = [source.qualified(e) for e in caught.elts] if isinstance(caught, ast.Tuple) else [source.qualified(caught)] if caught else []
                if caught is None or any(name in BROAD for name in names):
                    yield source, handler.lineno, {"caught": ast.unparse(caught) if caught else "(everything)", "call": short(queued.func) + "()"}


def _broad_handlers(source: Source, node: ast.Try) -> Iterator[tuple[ast.ExceptHandler, str]]:
    """The handlers of a try that catch everything (bare, Exception, BaseException), with what they name."""
    for handler in node.handlers:
        caught = handler.type
        names = [source.qualified(e) for e in caught.elts] if isinstance(caught, ast.Tuple) else [source.qualified(caught)] if caught else []
        if caught is None or any(name in BROAD for name in names):
            yield handler, ast.unparse(caught) if caught else "(everything)"


def _routes_to(function: ast.AST, path: str) -> bool:
    """Whether a view is routed to `path`: @bp.get("/health"), @app.route("/health", ...)."""
    for decorator in getattr(function, "decorator_list", []):
        first = decorator.args[0] if isinstance(decorator, ast.Call) and decorator.args else None
        if isinstance(first, ast.Constant) and first.value == path:
            return True
    return False


def _calls_attribute(nodes: list[ast.stmt], *names: str) -> ast.Call | None:
    for statement in nodes:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names:
                return node
    return None


def broad_except_in_health(package: Package) -> Iterator[Finding]:
    """A broad except in the /health view, or around a Redis PING anywhere."""
    for source in package.sources:
        for function in ast.walk(source.tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            health = _routes_to(function, "/health")
            for node in own_nodes(function):
                if not isinstance(node, ast.Try):
                    continue
                ping = _calls_attribute(node.body, "ping")
                if not (health or ping):
                    continue
                for handler, caught in _broad_handlers(source, node):
                    yield source, handler.lineno, {"caught": caught, "function": function.name}


def broad_except_then_retry(package: Package) -> Iterator[Finding]:
    """In a task: a broad except whose handler retries, so every error is retried."""
    for source in package.sources:
        for task, _ in source.tasks():
            for node in own_nodes(task):
                if not isinstance(node, ast.Try):
                    continue
                for handler, caught in _broad_handlers(source, node):
                    if _calls_attribute(handler.body, "retry") is not None:
                        yield source, handler.lineno, {"caught": caught, "task": task.name}


def full_jitter(package: Package) -> Iterator[Finding]:
    """Celery's own retries (autoretry_for) with retry_backoff and its retry_jitter, on by default."""
    for source in package.sources:
        for task, decorator in source.tasks():
            given = keywords(decorator)
            backoff, jitter = given.get("retry_backoff"), given.get("retry_jitter")
            if "autoretry_for" not in given or backoff is None:
                continue
            turned_off = [isinstance(value, ast.Constant) and not value.value for value in (backoff, jitter)]
            if not any(turned_off):  # retry_jitter is on unless turned off
                yield source, decorator.lineno, {"task": task.name}


def own_backoff(package: Package) -> Iterator[Finding]:
    """A bound task that retries with a countdown it computes (a growing wait it can give a floor)."""
    for source in package.sources:
        for task, decorator in source.tasks():
            if "retry_backoff" not in keywords(decorator) and "retry_backoff_max" not in keywords(decorator):
                continue
            for node in own_nodes(task):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "retry":
                    countdown = keywords(node).get("countdown")
                    if countdown is not None and not isinstance(countdown, ast.Constant):
                        yield source, node.lineno, {"task": task.name}
                        return


REGEX_CALLS = ("re.compile", "re.match", "re.fullmatch", "re.search", "re.findall")


def email_regex(package: Package) -> Iterator[Finding]:
    for source in package.sources:
        for call, name in source.calls():
            if name not in REGEX_CALLS or not call.args:
                continue
            pattern = call.args[0]
            text = source.constants.get(pattern.id) if isinstance(pattern, ast.Name) else getattr(pattern, "value", None)
            if isinstance(text, str) and "@" in text:
                yield source, call.lineno, {"pattern": text if len(text) <= 40 else text[:37] + "..."}


def autoretry_everything(package: Package) -> Iterator[Finding]:
    for source in package.sources:
        for task, decorator in source.tasks():
            value = keywords(decorator).get("autoretry_for")
            elements = value.elts if isinstance(value, (ast.Tuple, ast.List, ast.Set)) else [value] if value is not None else []
            for element in elements:
                if source.qualified(element) in BROAD:
                    yield source, element.lineno, {"task": task.name, "caught": ast.unparse(value)}


WAIT_KEYWORDS = ("countdown", "retry_backoff_max", "default_retry_delay", "maximum")


def visibility_timeout(package: Package) -> float:
    """The broker's visibility timeout as the package sets it (a literal, or an environment
    default), else kombu's default."""
    for source in package.sources:
        for node in ast.walk(source.tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "visibility_timeout" and (seconds := source.number(value)):
                        return seconds
            elif isinstance(node, ast.Call) and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant):
                default = node.args[1]
                if "VISIBILITY_TIMEOUT" in str(node.args[0].value) and isinstance(default, ast.Constant):
                    with contextlib.suppress(TypeError, ValueError):
                        return float(default.value)
    return DEFAULT_VISIBILITY_TIMEOUT


def countdown_over_visibility(package: Package) -> Iterator[Finding]:
    limit = visibility_timeout(package)
    for source in package.sources:
        for call, _ in source.calls():
            for keyword in call.keywords:
                if keyword.arg in WAIT_KEYWORDS and (seconds := source.number(keyword.value)) is not None and seconds > limit:
                    yield source, keyword.value.lineno, {"keyword": keyword.arg, "seconds": f"{seconds:g}", "limit": f"{limit:g}"}


def timeouts_set(package: Package) -> Iterator[Finding]:
    http = [(s, c) for s in package.sources for c, name in s.calls() if name.startswith("requests.") and name.rsplit(".", 1)[-1] in ("get", "post", "request")]
    smtp = [(s, c) for s in package.sources for c, name in s.calls() if name in ("smtplib.SMTP", "smtplib.SMTP_SSL")]
    if http and smtp and all("timeout" in keywords(c) or has_splat(c) for _, c in http + smtp):
        source, call = http[0]
        yield source, call.lineno, {"count": len(http) + len(smtp)}


def uses_email_validator(package: Package) -> Iterator[Finding]:
    for source in package.sources:
        for call, name in source.calls():
            if name == "email_validator.validate_email":
                yield source, call.lineno, {}
                return


LIMIT_KEYWORDS = ("rate_limit", "time_limit", "soft_time_limit")


def limit_in_the_code(package: Package) -> Iterator[Finding]:
    for source in package.sources:
        for task, decorator in source.tasks():
            for name, value in keywords(decorator).items():
                if name in LIMIT_KEYWORDS and isinstance(value, ast.Constant) and value.value is not None:
                    yield source, value.lineno, {"task": task.name, "keyword": name, "value": repr(value.value)}


def soft_limit_falls_back(package: Package) -> Iterator[Finding]:
    for source in package.sources:
        for task, _ in source.tasks():
            for node in ast.walk(task):
                if isinstance(node, ast.ExceptHandler) and node.type is not None:
                    caught = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
                    if any(source.qualified(c).endswith("SoftTimeLimitExceeded") for c in caught):
                        yield source, node.lineno, {"task": task.name}
                        return
