"""A minimal Streamlit client over the browser's own websocket protocol (for tests).

Sends ``BackMsg`` protobufs (``rerun_script`` with the page and widget states,
``clear_cache``) and reads ``ForwardMsg`` until ``script_finished``, collecting what the
page drew: element types, alert texts and exceptions.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


@dataclass
class Run:
    """What one script run sent to the browser."""

    status: int = -1
    elements: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == ForwardMsg.FINISHED_SUCCESSFULLY and not self.exceptions


class Client:
    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def connect(cls, url: str) -> Client:
        ws = await websockets.connect(
            url, subprotocols=[websockets.Subprotocol("streamlit")], max_size=None
        )
        return cls(ws)

    async def send(self, msg: BackMsg) -> None:
        await self.ws.send(msg.SerializeToString())

    async def rerun(self, page: str, timeout: float = 120) -> Run:
        msg = BackMsg()
        msg.rerun_script.page_name = page
        msg.rerun_script.query_string = ""
        await self.send(msg)
        return await asyncio.wait_for(self._collect(), timeout)

    async def clear_cache(self) -> None:
        msg = BackMsg()
        msg.clear_cache = True
        await self.send(msg)

    async def _collect(self) -> Run:
        run = Run()
        while True:
            data = await self.ws.recv()
            fwd = ForwardMsg()
            fwd.ParseFromString(data if isinstance(data, bytes) else data.encode())
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                what = element.WhichOneof("type") or ""
                run.elements.append(what)
                if what == "exception":
                    run.exceptions.append(f"{element.exception.type}: {element.exception.message}")
                elif what == "alert":
                    run.alerts.append(element.alert.body)
            elif kind == "script_finished":
                if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    run = Run()
                    continue
                run.status = fwd.script_finished
                return run

    async def close(self) -> None:
        await self.ws.close()
