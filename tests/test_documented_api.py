"""The package uses its libraries' documented API only, so an upgrade breaks only what its changelog announces.

The server once reached into websockets (its receive buffer, its message
assembler's pause flag), asyncio (a transport's private attribute) and CPython's
``json`` (the C encoder and scanner) for speed; each was measured on and off and
dropped (``docs/benchmarks.md``, fast paths). This test keeps it so: it reads
every module of ``codette_lab`` and fails naming the file and line of

- an import of a websockets module outside the documented ones, or of the
  internals of ``json``;
- a name starting with ``_`` imported from another package;
- a private attribute (``obj._x``, ``getattr(obj, "_x")``) taken from an object
  that is not the module's own: neither ``self``/``cls`` nor an attribute one of
  the module's own classes defines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "codette_lab"
MODULES = sorted(PACKAGE.rglob("*.py"))

#: websockets' modules its API reference documents (servers and clients, data structures, exceptions, types,
#: the connection's states).
WEBSOCKETS_DOCUMENTED = {
    "websockets",
    "websockets.asyncio.server",
    "websockets.asyncio.client",
    "websockets.sync.server",
    "websockets.sync.client",
    "websockets.datastructures",
    "websockets.exceptions",
    "websockets.frames",
    "websockets.http11",
    "websockets.protocol",
    "websockets.typing",
}
#: Standard-library modules that hold implementation details of a documented one.
STDLIB_INTERNALS = {"json.encoder", "json.decoder", "json.scanner", "asyncio.selector_events", "asyncio.sslproto"}
#: Names with a leading underscore that are documented API, and where.
DOCUMENTED_UNDERSCORE = {
    "_current_frames": "sys._current_frames(), in the sys module's reference",
    "_repr_html_": "IPython's rich display protocol",
}


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def _own_attributes(tree: ast.Module) -> set[str]:
    """Attributes the module's own classes define: methods, class attributes, ``self._x = ...``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names.add(item.target.id)
                elif isinstance(item, ast.Assign):
                    names.update(target.id for target in item.targets if isinstance(target, ast.Name))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            names.add(node.attr)
    return names


def _imported(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str | None]]:
    if isinstance(node, ast.Import):
        return [(alias.name, None) for alias in node.names]
    if node.level:  # relative: the package's own module
        return []
    return [(node.module or "", alias.name) for alias in node.names]


def problems_in(path: Path) -> list[str]:
    """What in one module is not documented API of a library, each as ``file:line: what``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    own = _own_attributes(tree)
    where = str(path.relative_to(PACKAGE.parent)) if path.is_relative_to(PACKAGE) else path.name
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for module, name in _imported(node):
                if module.split(".")[0] == "codette_lab":
                    continue
                if module.startswith("websockets") and module not in WEBSOCKETS_DOCUMENTED:
                    found.append(f"{where}:{node.lineno}: imports {module}, not in websockets' documented API")
                if module in STDLIB_INTERNALS:
                    found.append(f"{where}:{node.lineno}: imports {module}, an implementation detail")
                if name and name.startswith("_") and not name.startswith("__"):
                    found.append(f"{where}:{node.lineno}: imports the private name {name} from {module}")
        attribute = None
        if isinstance(node, ast.Attribute):
            attribute, holder = node.attr, node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            attribute, holder = node.args[1].value, node.args[0]
        if attribute is None or not attribute.startswith("_") or attribute.startswith("__"):
            continue
        if isinstance(holder, ast.Name) and holder.id in ("self", "cls"):
            continue
        if attribute in own or attribute in DOCUMENTED_UNDERSCORE:
            continue
        found.append(f"{where}:{node.lineno}: takes the private attribute {attribute} of {ast.unparse(holder)}")
    return found


@pytest.mark.parametrize("path", MODULES, ids=_module_name)
def test_the_module_uses_documented_api_only(path: Path) -> None:
    assert problems_in(path) == []


def test_the_check_names_each_kind_of_internal_it_refuses(tmp_path: Path) -> None:
    """The fast paths the package dropped, written again, are each found (so the check above can fail)."""
    module = tmp_path / "probe.py"
    module.write_text(
        "from websockets.streams import StreamReader\n"
        "from websockets.asyncio.messages import Assembler\n"
        "import json.encoder\n"
        "from json.decoder import _decode_uXXXX\n"
        "def speed(connection, reader):\n"
        "    connection._transport.pause_reading()\n"
        "    return getattr(reader, '_paused', False), json.encoder.c_make_encoder\n"
    )
    found = "\n".join(problems_in(module))
    for expected in (
        ":1: imports websockets.streams",
        ":2: imports websockets.asyncio.messages",
        ":3: imports json.encoder",
        ":4: imports json.decoder",
        ":4: imports the private name _decode_uXXXX",
        ":6: takes the private attribute _transport of connection",
        ":7: takes the private attribute _paused of reader",
    ):
        assert expected in found, (expected, found)


def test_the_server_serves_with_websockets_own_connection_class() -> None:
    """What websockets makes for each client is its own ``ServerConnection``: through ``serve``'s documented
    ``create_connection``, the server's class only adds a constructor that remembers the connection."""
    import asyncio
    import json

    from websockets.asyncio.client import connect
    from websockets.asyncio.server import ServerConnection

    from codette_lab.server import serve

    async def run() -> type:
        async with serve(port=0) as server, connect(server.url, open_timeout=10) as client:
            await client.recv()
            await client.send(json.dumps({"type": "ping"}))
            assert json.loads(await client.recv())["type"] == "pong"
            (socket,) = server._accepted  # the server's own record of the connections websockets made for it
            return type(socket)

    made = asyncio.run(run())
    assert issubclass(made, ServerConnection)
    added = {
        name
        for klass in made.__mro__[: made.__mro__.index(ServerConnection)]
        for name in vars(klass)
        if not name.startswith("__") or name == "__init__"
    }
    assert added == {"__init__"}, added
