"""A browser-less Streamlit client over the browser's own protocol (load driver and tests).

Like a browser it first GETs the page (through a proxy this sets the affinity cookie), then
opens the websocket with those cookies and speaks ``BackMsg``/``ForwardMsg`` protobufs:
``rerun_script`` with the page and the widget states it holds, ``clear_cache``; it reads
``ForwardMsg`` until ``script_finished``, collecting what the page drew (element types,
alert texts, exceptions, media URLs) and every widget's id (widgets are addressed by their
key: Streamlit's widget ids end with it). Media and uploads go over HTTP with the same
cookies, so affinity can be checked on every request (``X-Ptexplore-Replica``).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileUploaderState, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

REPLICA_HEADER = "X-Ptexplore-Replica"
ROOT = Path(__file__).resolve().parent.parent


def start_streamlit(port: int, *flags: str) -> subprocess.Popen[bytes]:
    """``streamlit run app.py`` on 127.0.0.1:``port`` (plus ``flags``), once healthy."""
    from ptexplore.supervise import healthy

    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", *flags],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while not healthy(f"http://127.0.0.1:{port}"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("streamlit did not start")
        time.sleep(0.2)
    return proc


@dataclass
class Run:
    """What one script run sent to the browser."""

    status: int = -1
    seconds: float = 0.0
    elements: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # markdown bodies, in order

    @property
    def ok(self) -> bool:
        return self.status == ForwardMsg.FINISHED_SUCCESSFULLY and not self.exceptions


def _widget_id(element: object) -> tuple[str, str] | None:
    """(element type, widget id) of a widget element; None for other elements."""
    kind = element.WhichOneof("type")  # type: ignore[attr-defined]
    if kind is None:
        return None
    inner = getattr(element, kind)
    wid = getattr(inner, "id", "")
    return (kind, wid) if isinstance(wid, str) and wid.startswith("$$ID") else None


class Client:
    """One simulated learner (one browser tab)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.ws: websockets.ClientConnection | None = None
        self.session_id = ""
        self.replicas: set[str] = set()
        self.widgets: dict[str, tuple[str, str]] = {}  # key -> (type, id)
        self.states: dict[str, WidgetState] = {}  # id -> state we hold

    def _get(self, path: str, method: str = "GET", data: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
        req = urllib.request.Request(self.base + path, data=data, method=method)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with self.opener.open(req, timeout=60) as r:
                self._note(r.headers)
                return r.status, r.read()
        except urllib.error.HTTPError as err:
            self._note(err.headers)
            return err.code, err.read()

    def _note(self, headers: object) -> None:
        replica = headers.get(REPLICA_HEADER) if headers else None  # type: ignore[attr-defined]
        if replica:
            self.replicas.add(str(replica))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    async def connect(self) -> None:
        # as a browser: the page (through a proxy: the affinity cookie), then the health
        # check the frontend makes first (it sets Streamlit's XSRF cookie for uploads)
        await asyncio.to_thread(self._get, "/")
        await asyncio.to_thread(self._get, "/_stcore/health")
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        url = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = await websockets.connect(
            url,
            subprotocols=[websockets.Subprotocol("streamlit")],
            additional_headers={"Cookie": cookies} if cookies else None,
            max_size=None,
            open_timeout=60,
        )
        response = self.ws.response
        if response is not None:
            self._note(response.headers)

    async def _send(self, msg: BackMsg) -> None:
        assert self.ws is not None
        await self.ws.send(msg.SerializeToString())

    async def rerun(self, page: str = "", timeout: float = 120) -> Run:
        msg = BackMsg()
        msg.rerun_script.page_name = page
        msg.rerun_script.query_string = ""
        msg.rerun_script.widget_states.widgets.extend(self.states.values())
        t0 = time.perf_counter()
        await self._send(msg)
        run = await asyncio.wait_for(self._collect(), timeout)
        run.seconds = time.perf_counter() - t0
        for state in list(self.states.values()):  # buttons fire once
            if state.WhichOneof("value") == "trigger_value":
                del self.states[state.id]
        return run

    def _id(self, key: str) -> str:
        found = next((wid for k, (_, wid) in self.widgets.items() if k == key), None)
        if found is None:
            raise KeyError(f"no widget with key {key!r} on the last page drawn")
        return found

    def set_text(self, key: str, value: str) -> None:
        self.states[self._id(key)] = WidgetState(id=self._id(key), string_value=value)

    def set_number(self, key: str, value: float) -> None:
        self.states[self._id(key)] = WidgetState(id=self._id(key), double_value=value)

    def attach(self, key: str, name: str, data: bytes) -> int:
        """Upload ``data`` and put it in the file uploader ``key``, as a browser does (the
        PUT, then the widget's state naming the file); the PUT's HTTP status."""
        status, file_id = self.upload(name, data)
        info = UploadedFileInfo(file_id=file_id, name=name, size=len(data))
        info.file_urls.file_id = file_id
        info.file_urls.upload_url = f"/_stcore/upload_file/{self.session_id}/{file_id}"
        info.file_urls.delete_url = info.file_urls.upload_url
        state = FileUploaderState(uploaded_file_info=[info])
        self.states[self._id(key)] = WidgetState(id=self._id(key), file_uploader_state_value=state)
        return status

    def set_int(self, key: str, value: int) -> None:
        self.states[self._id(key)] = WidgetState(id=self._id(key), int_value=value)

    def set_bool(self, key: str, value: bool) -> None:
        self.states[self._id(key)] = WidgetState(id=self._id(key), bool_value=value)

    def click(self, key: str) -> None:
        self.states[self._id(key)] = WidgetState(id=self._id(key), trigger_value=True)

    async def clear_cache(self) -> None:
        msg = BackMsg()
        msg.clear_cache = True
        await self._send(msg)

    def media(self, url: str) -> int:
        status, _ = self._get(url if url.startswith("/") else "/" + url)
        return status

    def upload(self, name: str, data: bytes) -> tuple[int, str]:
        """PUT a file for this session, as the browser's uploader does: (status, file id)."""
        file_id = uuid.uuid4().hex
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        token = self.cookie("_streamlit_xsrf")
        if token:
            headers["X-Xsrftoken"] = token
        status, _ = self._get(
            f"/_stcore/upload_file/{self.session_id}/{file_id}", "PUT", body, headers
        )
        return status, file_id

    async def _collect(self) -> Run:
        assert self.ws is not None
        run = Run()
        while True:
            data = await self.ws.recv()
            fwd = ForwardMsg()
            fwd.ParseFromString(data if isinstance(data, bytes) else data.encode())
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fwd.new_session.initialize.session_id
                self.widgets = {}
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "add_block":
                block = fwd.delta.add_block
                if block.WhichOneof("type") == "tab_container" and block.tab_container.id:
                    wid = block.tab_container.id  # a tabs widget: its value is the open label
                    self.widgets[wid.rsplit("-", 1)[-1]] = ("tab_container", wid)
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                what = element.WhichOneof("type") or ""
                run.elements.append(what)
                found = _widget_id(element)
                if found is not None:
                    key = found[1].rsplit("-", 1)[-1] if "-" in found[1] else found[1]
                    self.widgets[key] = found
                if what == "exception":
                    run.exceptions.append(f"{element.exception.type}: {element.exception.message}")
                elif what == "alert":
                    run.alerts.append(element.alert.body)
                elif what == "markdown":
                    run.texts.append(element.markdown.body)
                elif what == "imgs":
                    run.media.extend(img.url for img in element.imgs.imgs)
            elif kind == "script_finished":
                if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    run = Run()
                    continue
                run.status = fwd.script_finished
                return run

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
