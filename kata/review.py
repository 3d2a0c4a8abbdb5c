"""`kata review`: what a mentor would say about the approach, beyond pass or fail.

Some of the commonest Flask and Celery mistakes pass every test, because they behave the same
on the tests' inputs. The review reads a stage's `workit` package, never runs or changes it,
and comments on what it finds, as exercism's analyzers do: each comment is typed essential,
actionable, informative or celebratory, and `kata review --json` writes exercism's
analysis.json (`{"summary", "comments": [{"comment", "params", "type"}]}`).

Every rule is in RULES below, tied to the first stage it applies to (and every later one).
What ruff already checks (a blind except, requests without a timeout, logging with f-strings,
pickle) comes from ruff, worded for a learner; the Celery- and Flask-specific rules are one
small `ast` pass each.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kata.layout import PACKAGE, Stage

TYPES = ("essential", "actionable", "informative", "celebratory")
DEFAULT_VISIBILITY_TIMEOUT = 3600  # seconds: kombu's Redis transport, unless the app sets one


# --- what the rules look at -------------------------------------------------------------------


@dataclass
class Source:
    """One module of the package: its name (`workit/views.py`), its tree and what it imports."""

    name: str
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # local name -> dotted name
    constants: dict[str, Any] = field(default_factory=dict)  # module-level NAME = literal

    @classmethod
    def parse(cls, name: str, text: str) -> Source:
        tree = ast.parse(text, filename=name)
        source = cls(name, tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    source.imports[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    source.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                with contextlib.suppress(ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    source.constants[node.targets[0].id] = ast.literal_eval(node.value)
        return source

    @property
    def module(self) -> str:
        return Path(self.name).stem

    def qualified(self, node: ast.AST) -> str:
        """`requests.get`, `time.sleep`, `smtplib.SMTP`: a name as imported, or ''."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return ""
        parts.append(self.imports.get(node.id, node.id))
        return ".".join(reversed(parts))

    def number(self, node: ast.AST) -> float | None:
        """The value of a numeric constant expression (`600`, `2 * 3600`, `BACKOFF_MAX`), or None."""
        if isinstance(node, ast.Name):
            value = self.constants.get(node.id)
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if isinstance(node, ast.Constant):
            return float(node.value) if isinstance(node.value, (int, float)) and not isinstance(node.value, bool) else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult, ast.Sub)):
            left, right = self.number(node.left), self.number(node.right)
            if left is None or right is None:
                return None
            return left + right if isinstance(node.op, ast.Add) else left * right if isinstance(node.op, ast.Mult) else left - right
        return None

    def calls(self) -> Iterator[tuple[ast.Call, str]]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                yield node, self.qualified(node.func)

    def tasks(self) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.expr]]:
        """Celery tasks: functions under @shared_task or @<app>.task, with their decorator."""
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    name = self.qualified(target)
                    if name.endswith("shared_task") or (isinstance(target, ast.Attribute) and target.attr == "task"):
                        yield node, decorator


@dataclass
class Package:
    sources: list[Source]

    def module(self, stem: str) -> Source | None:
        return next((source for source in self.sources if source.module == stem), None)


def keywords(call: ast.expr) -> dict[str, ast.expr]:
    return {kw.arg: kw.value for kw in call.keywords if kw.arg} if isinstance(call, ast.Call) else {}


def has_splat(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords) or any(isinstance(arg, ast.Starred) for arg in call.args)


def enqueues(node: ast.AST) -> ast.Call | None:
    """The `x.delay(...)` or `x.apply_async(...)` call in `node`, if there is one."""
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr in ("delay", "apply_async"):
            return child
    return None


def short(node: ast.AST, width: int = 50) -> str:
    text = ast.unparse(node)
    return text if len(text) <= width else text[: width - 3] + "..."


Finding = tuple[Source, int, dict[str, Any]]  # where (the module, a line) and the params


# --- the rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One thing a mentor would point out. `title`, `why` and `read` are what the learner
    reads; `title` may use the finding's params ({task}, {call}...)."""

    id: str
    type: str
    since: int  # the first stage (by number) it applies to, and every later one (unless `until`)
    title: str
    why: str
    read: str
    check: Callable[[Package], Iterator[Finding]] | None = None  # our own ast pass...
    ruff: tuple[str, ...] = ()  # ...or the ruff rules that find it
    replaces: tuple[str, ...] = ()  # rules it says better, on the same line: theirs is dropped
    until: int | None = None  # the last stage it applies to: praise only where the learner wrote it

    def applies_to(self, stage_name: str) -> bool:
        number = stage_number(stage_name)
        return number >= self.since and (self.until is None or number <= self.until)


def stage_number(stage_name: str) -> int:
    return int(stage_name.split("_", 1)[0])


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
    for node in _own_nodes(task):
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
                (node for node in _own_nodes(task) if isinstance(node, ast.Return) and node.value is not None),
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


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, without those of functions or classes inside it."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


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
            for node in _own_nodes(function):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and enqueues(node.value) is node.value:
                    results |= {target.id for target in node.targets if isinstance(target, ast.Name)}
            for node in _own_nodes(function):
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
            for node in _own_nodes(function):
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
            for node in _own_nodes(task):
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
            for node in _own_nodes(task):
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


CELERY_DOCS = "https://docs.celeryq.dev/en/stable"

RULES: tuple[Rule, ...] = (
    # --- from stage 01: any Python that talks to the network
    Rule(
        "hardcoded_key", "essential", 1,
        "A Giphy key written in the code ({name})",
        "Whoever reads the repository can use it, and a key in git stays in its history after you "
        "delete it. Read it from the environment (GIPHY_API_KEY), with no default.",
        "https://12factor.net/config",
        check=hardcoded_key,
    ),
    Rule(
        "requests_without_timeout", "actionable", 1,
        "A requests call without a timeout",
        "requests waits forever by default: a Giphy that never answers holds the request (or, "
        "later, the worker) forever. Pass timeout=..., as the config's GIPHY_TIMEOUT.",
        "https://requests.readthedocs.io/en/latest/user/advanced/#timeouts",
        ruff=("S113",),
    ),
    Rule(
        "smtp_without_timeout", "actionable", 1,
        "{call}() without a timeout",
        "Without one, an SMTP server that accepts the connection and then stalls holds the "
        "request (later, a worker) forever. Pass timeout=..., as the config's MAIL_TIMEOUT.",
        "https://docs.python.org/3/library/smtplib.html#smtplib.SMTP",
        check=smtp_without_timeout,
    ),
    Rule(
        "blind_except", "actionable", 1,
        "An except that catches every exception",
        "It catches your own bugs too (a typo, a TypeError), and then they look like something "
        "else, or like nothing. Catch the exceptions you expect and can handle, by name.",
        "https://docs.astral.sh/ruff/rules/blind-except/",
        ruff=("BLE001", "E722"),
    ),
    Rule(
        "logging_format", "informative", 1,
        "A log message formatted before logging sees it",
        "Pass the values as arguments, logger.warning(\"job %s: %s\", job, problem): the text is "
        "built only if the line is logged, and log tools group the lines by message.",
        "https://docs.python.org/3/howto/logging.html#optimization",
        ruff=("G001", "G002", "G003", "G004"),
    ),
    Rule(
        "print_call", "informative", 1,
        "print() where a logger would do",
        "A print has no level, time or logger name, and a worker's log shows it only as "
        "a stray line. Use current_app.logger in the app, get_task_logger(__name__) in tasks.",
        f"{CELERY_DOCS}/userguide/tasks.html#logging",
        ruff=("T201",),
    ),
    Rule(
        "timeouts_set", "celebratory", 1,
        "Every network call has a timeout ({count} of them)",
        "A Giphy or an SMTP server that hangs now costs a few seconds, not a stuck process.",
        "https://requests.readthedocs.io/en/latest/user/advanced/#timeouts",
        check=timeouts_set,
        until=1,
    ),
    # --- from stage 02: Redis
    Rule(
        "broad_except_in_health", "essential", 2,
        "`except {caught}` in {function}, around the question to Redis",
        "Any bug (a typo, a setting that is not there, a TypeError) then makes /health say "
        "\"Redis is unavailable\", and whoever is paged goes looking at a Redis that is fine. "
        "Catch what the client raises when Redis is away: redis.exceptions.RedisError "
        "(ConnectionError, TimeoutError).",
        "https://redis.readthedocs.io/en/stable/exceptions.html",
        check=broad_except_in_health,
        replaces=("blind_except",),
    ),
    Rule(
        "redis_without_timeout", "actionable", 2,
        "{call}() without a socket timeout",
        "redis-py waits forever by default: a Redis that is unreachable (not refusing, just "
        "silent) hangs every request that touches it. Pass socket_timeout and "
        "socket_connect_timeout.",
        "https://redis.readthedocs.io/en/stable/connections.html",
        check=redis_without_timeout,
    ),
    Rule(
        "pickle_jobs", "actionable", 2,
        "pickle for data that comes from Redis",
        "Unpickling runs code chosen by whoever wrote the bytes: anyone who can write to your "
        "Redis can run code in your worker. Jobs are JSON, as Celery's are by default.",
        "https://docs.python.org/3/library/pickle.html",
        ruff=("S301",),
    ),
    # --- from stage 03: Celery tasks and the worker
    Rule(
        "app_beside_celery_app", "essential", 3,
        "worker.py has a module-level `{name}` that is not the Celery app ({value})",
        "`celery -A workit.worker` takes the attribute named app, then celery, before it looks "
        "for a Celery app: the worker would pick this one and fail to start. Call the Flask app "
        "flask_app.",
        f"{CELERY_DOCS}/getting-started/next-steps.html#about-the-app-argument",
        check=app_beside_celery_app,
    ),
    Rule(
        "sleep_in_task", "actionable", 3,
        "time.sleep() in the task {task}",
        "A sleeping task holds its worker slot doing nothing: a few of them and every other job "
        "waits. To wait before trying again, raise self.retry(countdown=...): the job goes back "
        "to Redis and the slot is free.",
        f"{CELERY_DOCS}/userguide/tasks.html#retrying",
        check=sleep_in_task,
    ),
    Rule(
        "task_returns_value", "informative", 3,
        "The task {task} returns `{value}`",
        "Nobody reads it: the view only queues the job. With a result backend each value is "
        "stored (and must be JSON); without, it is thrown away. Return nothing.",
        f"{CELERY_DOCS}/userguide/tasks.html#ignore-results-you-don-t-want",
        check=task_returns_value,
    ),
    Rule(
        "autoretry_everything", "actionable", 3,
        "autoretry_for={caught} on {task}",
        "Every error is retried, a bug as much as a server that is down: a TypeError runs again "
        "and again before it fails, and a job that fails after sending sends again. Retry the "
        "errors that time can fix: smtplib.SMTPException, OSError.",
        f"{CELERY_DOCS}/userguide/tasks.html#automatic-retry-for-known-exceptions",
        check=autoretry_everything,
    ),
    # --- from stage 04: the request enqueues
    Rule(
        "result_get_in_request", "essential", 4,
        "{call} in {function} waits for the job",
        "The request then waits for the worker, as slow as in step 01 plus a queue. And with "
        "task_ignore_result (this app's setting) Celery 5 does not wait at all: .get() returns "
        "None at once, so the code reads None as the job's result; without a result backend "
        "it raises NotImplementedError. Queue the job and answer at once.",
        f"{CELERY_DOCS}/userguide/tasks.html#avoid-launching-synchronous-subtasks",
        check=result_get_in_request,
    ),
    Rule(
        "broad_except_around_delay", "essential", 4,
        "`except {caught}` around {call}",
        "Any bug (a TypeError, a wrong task name) then reaches the user as \"we could not queue "
        "your email\", and your logs as Redis trouble. Catch what .delay() raises when Redis is "
        "away: kombu.exceptions.OperationalError.",
        f"{CELERY_DOCS}/userguide/calling.html#connection-error-handling",
        check=broad_except_around_delay,
        replaces=("blind_except",),
    ),
    Rule(
        "email_regex", "actionable", 4,
        "A home-made email regex ({pattern})",
        "Addresses are more varied than a regex allows, and one that lets too much through "
        "fails later in the worker, where nobody tells the user. email-validator knows the RFCs.",
        "https://pypi.org/project/email-validator/",
        check=email_regex,
    ),
    Rule(
        "uses_email_validator", "celebratory", 4,
        "email-validator checks the address, not a regex",
        "It follows the RFCs and says what is wrong, in words you can show the user.",
        "https://pypi.org/project/email-validator/",
        check=uses_email_validator,
        until=4,
    ),
    # --- from stage 06: a database
    Rule(
        "create_all_in_app", "actionable", 6,
        "{call} makes the tables from the app",
        "create_all() makes a table that is missing and never changes one that exists: after the "
        "next change to the model the app runs on the old schema, and nothing says so. Let the "
        "migrations own the schema: `flask db upgrade` on every deploy (Flask-Migrate).",
        "https://flask-migrate.readthedocs.io/en/latest/",
        check=create_all_in_app,
    ),
    Rule(
        "legacy_query_get", "informative", 6,
        "{call} is SQLAlchemy 1.x's Query.get",
        "It still works and warns that it is legacy; SQLAlchemy 2.0 reads a row by its primary "
        "key with Session.get (db.session.get(Model, id), or db.get_or_404 in a view).",
        "https://docs.sqlalchemy.org/en/20/orm/session_api.html#sqlalchemy.orm.Session.get",
        check=legacy_query_get,
    ),
    Rule(
        "status_from_result_backend", "actionable", 6,
        "{call} asks Celery's result backend for the status",
        "A result expires, says PENDING for a job it has never heard of (a typo, a lost message) "
        "and knows nothing of the retries you wrote down. The request's row is the truth: the "
        "worker writes each step there, and the page reads it.",
        f"{CELERY_DOCS}/userguide/tasks.html#result-backends",
        check=status_from_result_backend,
    ),
    # --- from stage 05: failures
    Rule(
        "countdown_over_visibility", "essential", 5,
        "A wait of {seconds} s ({keyword}), longer than the visibility timeout ({limit} s)",
        "Redis hands a job nobody has acknowledged to another worker after the visibility "
        "timeout, and a waiting retry is such a job: it runs twice and the email goes out twice. "
        "Keep every wait below it.",
        f"{CELERY_DOCS}/getting-started/backends-and-brokers/redis.html#visibility-timeout",
        check=countdown_over_visibility,
    ),
    Rule(
        "broad_except_then_retry", "essential", 5,
        "`except {caught}` in {task}, and then a retry",
        "Every error is retried, not just the mail server's: a bug (a TypeError, a wrong "
        "setting) runs again and again before the job fails, and an error after the email "
        "went out sends it again. Retry what time can fix, by name: smtplib.SMTPException, OSError.",
        f"{CELERY_DOCS}/userguide/tasks.html#retrying",
        check=broad_except_then_retry,
        replaces=("blind_except",),
    ),
    Rule(
        "full_jitter", "actionable", 5,
        "{task} retries with Celery's retry_jitter: each wait anywhere from 0 to its backoff",
        "That is full jitter: every wait can come out near zero, so all the retries can be spent "
        "within seconds, and a two-second outage of the mail server then loses the email. Keep a "
        "floor under each wait: retry from the task (self.retry(countdown=...)) with half of "
        "each backoff fixed and only the other half drawn at random.",
        f"{CELERY_DOCS}/userguide/tasks.html#Task.retry_jitter",
        check=full_jitter,
    ),
    Rule(
        "own_backoff", "celebratory", 5,
        "{task} computes its own growing wait before each retry",
        "Each retry waits longer than the last, so a struggling server gets room, and the task "
        "decides how random each wait is: a floor under it keeps the retries spread over minutes.",
        f"{CELERY_DOCS}/userguide/tasks.html#retrying",
        check=own_backoff,
        until=5,
    ),
    # --- from stage 07: workers at scale
    Rule(
        "limit_in_the_code", "informative", 7,
        "{keyword}={value} on {task}, written in the code",
        "A limit is the operator's: Giphy's budget, how long a call may take. Set it by the "
        "task's name in task_annotations, from the config, and it changes without a release. "
        "And a rate_limit holds per worker process: two workers, twice the calls.",
        f"{CELERY_DOCS}/userguide/configuration.html#task-annotations",
        check=limit_in_the_code,
    ),
    Rule(
        "soft_limit_falls_back", "celebratory", 7,
        "{task} catches its soft time limit and goes on",
        "A slow Giphy costs the GIF, not the email: the job ends well instead of being killed.",
        f"{CELERY_DOCS}/userguide/workers.html#time-limits",
        check=soft_limit_falls_back,
        until=7,
    ),
)

# A file Python cannot read: not a rule to apply, but said the same way.
UNREADABLE = Rule(
    "unreadable", "informative", 1,
    "Python cannot read this file ({error}): the review skipped it",
    "Fix it first: the tests cannot import it either.",
    "https://docs.python.org/3/tutorial/errors.html#syntax-errors",
)


# --- running them -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Comment:
    rule: Rule
    stage: str
    file: str  # `workit/views.py`
    line: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.stage}.{self.rule.id}"

    @property
    def type(self) -> str:
        return self.rule.type

    @property
    def title(self) -> str:
        return self.rule.title.format(**self.params)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def as_json(self) -> dict[str, Any]:
        return {"comment": self.id, "params": {"file": self.file, "line": self.line, **self.params}, "type": self.type}


@dataclass
class Review:
    stage: str
    directory: Path  # the package reviewed
    comments: list[Comment]
    ruff_missing: bool = False  # ruff is not installed, or did not run

    def of_type(self, *types: str) -> list[Comment]:
        return [comment for comment in self.comments if comment.type in types]

    @property
    def notes(self) -> list[Comment]:
        """What the learner may want to change: all but the celebratory comments."""
        return self.of_type("essential", "actionable", "informative")

    @property
    def summary(self) -> str:
        essential, actionable = len(self.of_type("essential")), len(self.of_type("actionable"))
        informative, celebratory = len(self.of_type("informative")), len(self.of_type("celebratory"))
        sturdier = f"{count(actionable, 'change').capitalize()} would make it sturdier."
        if essential:
            first = f"{count(essential, 'thing').capitalize()} here would hurt in production: fix {'it' if essential == 1 else 'them'} first."
            return f"{first} {sturdier.replace('change', 'more change', 1)}" if actionable else first
        if actionable:
            return sturdier
        if informative:
            return f"Nothing to fix; {count(informative, 'note')} worth knowing."
        if celebratory:
            return "Nothing to fix, and some things done especially well."
        return "Nothing to point out."

    def as_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "comments": [comment.as_json() for comment in self.comments]}


NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def count(n: int, noun: str) -> str:
    return f"{NUMBERS[n] if n < len(NUMBERS) else n} {noun}{'' if n == 1 else 's'}"


def rules_for(stage_name: str) -> list[Rule]:
    return [rule for rule in RULES if rule.applies_to(stage_name)]


def review_stage(stage: Stage, target: str = "stages") -> Review:
    return review_package(stage.code_dir(target) / PACKAGE, stage.name)


def review_package(package: Path, stage_name: str) -> Review:
    """Apply the stage's rules to the package at `package` (a `workit` directory)."""
    rules = rules_for(stage_name)
    sources, comments = [], []
    files = sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts) if package.is_dir() else []
    for path in files:
        name = path.relative_to(package.parent).as_posix()
        try:
            sources.append(Source.parse(name, path.read_text(encoding="utf-8", errors="replace")))
        except SyntaxError as error:
            comments.append(Comment(UNREADABLE, stage_name, name, error.lineno or 1, {"error": f"{error.msg}, line {error.lineno}"}))
    parsed = Package(sources)
    for rule in rules:
        if rule.check is not None:
            for source, line, params in rule.check(parsed):
                comments.append(Comment(rule, stage_name, source.name, line, params))
    unreadable = {comment.file for comment in comments if comment.rule is UNREADABLE}
    ruff_comments, missing = ruff_findings(package, [rule for rule in rules if rule.ruff], stage_name)
    comments += [comment for comment in ruff_comments if comment.file not in unreadable]
    replaced = {(comment.where, replaced) for comment in comments for replaced in comment.rule.replaces}
    comments = [comment for comment in comments if (comment.where, comment.rule.id) not in replaced]
    order = {kind: index for index, kind in enumerate(TYPES)}
    comments.sort(key=lambda c: (order[c.type], c.file, c.line, c.rule.id))
    return Review(stage_name, package, comments, missing)


def ruff_binary() -> str | None:
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:
        return None
    try:
        return str(find_ruff_bin())
    except FileNotFoundError:
        return None


def ruff_findings(package: Path, rules: list[Rule], stage_name: str) -> tuple[list[Comment], bool]:
    """Run ruff with only these rules' codes, on `package`; (comments, whether ruff failed to run).

    --isolated: the learner's (or the kata's) ruff settings change nothing here."""
    codes = {code: rule for rule in rules for code in rule.ruff}
    if not codes or not package.is_dir():
        return [], False
    binary = ruff_binary()
    if binary is None:
        return [], True
    try:
        done = subprocess.run(
            [binary, "check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
             "--target-version", "py310", "--select", ",".join(sorted(codes)), str(package)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return [], True
    try:
        found = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        return [], True
    comments = []
    for item in found:
        rule = codes.get(item.get("code") or "")
        if rule is None:
            continue
        name = Path(item["filename"]).resolve().relative_to(package.resolve().parent).as_posix()
        comments.append(Comment(rule, stage_name, name, item["location"]["row"], {"ruff": item["code"]}))
    return comments, False


def write_json(review: Review, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(review.as_json(), indent=2) + "\n", encoding="utf-8")


# --- what the learner reads ---------------------------------------------------------------------

COLOURS = {"essential": "red", "actionable": "yellow", "informative": "cyan", "celebratory": "green"}
WIDTH = 88
FOOTER = "(The review never changes your files; the tests alone decide when a stage is done.)"


def _styled(kind: str) -> str:
    import click

    return click.style(kind, fg=COLOURS[kind], bold=kind == "essential")


def review_lines(review: Review, shown_as: str) -> list[str]:
    """The whole review: every comment with where, what, why and what to read."""
    import textwrap

    heading = f"Review of {review.stage} ({shown_as}): "
    if not review.directory.is_dir():
        return [heading + "there is no such package to read."]
    notes = review.notes
    if not review.comments:
        return [heading + "nothing to point out.", FOOTER]
    lines = [heading + (f"{count(len(notes), 'note')}." if notes else "nothing to change."), ""]
    for comment in review.comments:
        lines.append(f"{_styled(comment.type)}  {comment.where}  {comment.title}")
        lines += textwrap.wrap(comment.rule.why, WIDTH, initial_indent="  ", subsequent_indent="  ")
        lines += [f"  Read: {comment.rule.read}", ""]
    if review.ruff_missing:
        lines += ["ruff did not run (is it installed? pip install ruff), so the general checks (except, timeouts, logging) were skipped.", ""]
    return [*lines, review.summary, FOOTER]


def note_lines(review: Review, number: str) -> list[str]:
    """What `kata check` adds once a stage passes: one line per comment, and where to read more."""
    notes, praise = review.notes, review.of_type("celebratory")
    if not notes:
        return [f"Well done: {comment.title[0].lower()}{comment.title[1:]}." for comment in praise]
    lines = [f"{count(len(notes), 'note').capitalize()} on your approach ({_command(f'kata review {number}')} says why):"]
    width = max(len(comment.where) for comment in notes)
    lines += [f"  {_styled(c.type)}{' ' * (13 - len(c.type))}{c.where:<{width}}  {c.title}" for c in notes]
    return [*lines, ""]


def _command(text: str) -> str:
    import click

    return click.style(text, fg="cyan")
