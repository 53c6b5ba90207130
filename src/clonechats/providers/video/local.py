"""The offline video provider: talking-head clips rendered on this machine (`renderer`).

Each `submit()` starts one render in a worker thread, so the event loop stays free; at most
`concurrency` renders run at once (the others wait their turn, state `queued`). Progress is
handed to `on_progress` on the event loop as frames render, at most every `progress_step`.
`result()` waits for the render and returns it (or raises what the render raised); `cancel()`
sets a flag the render checks before every frame. The renders live in this process only: a job
whose process died is rendered again from the start by whoever takes the job over.
"""

import asyncio
import concurrent.futures
import secrets
import threading
from dataclasses import dataclass, field

from clonechats.providers.errors import ProviderRejected
from clonechats.providers.video.base import (
    ProgressCallback,
    RenderedVideo,
    VideoCancelled,
    VideoJobRef,
    VideoRequest,
    VideoState,
    VideoStatus,
)
from clonechats.providers.video.renderer import render_talking_head


@dataclass
class _Render:
    cancel: threading.Event = field(default_factory=threading.Event)
    state: VideoState = "queued"
    progress: float = 0.0
    task: asyncio.Task[RenderedVideo] | None = None
    error: BaseException | None = None


class LocalVideoProvider:
    name = "local"

    def __init__(self, *, size: int = 512, fps: int = 25, threads: int = 2,
                 concurrency: int = 1, progress_step: float = 0.02) -> None:
        self._size = size
        self._fps = fps
        self._threads = threads
        self._slots = asyncio.Semaphore(concurrency)
        self._step = progress_step
        self._renders: dict[str, _Render] = {}

    async def submit(self, request: VideoRequest, *,
                     on_progress: ProgressCallback | None = None) -> VideoJobRef:
        job_id = f"local-{secrets.token_hex(8)}"
        render = _Render()
        self._renders[job_id] = render
        render.task = asyncio.create_task(self._run(render, request, on_progress))
        return VideoJobRef(self.name, job_id)

    async def _run(self, render: _Render, request: VideoRequest,
                   on_progress: ProgressCallback | None) -> RenderedVideo:
        loop = asyncio.get_running_loop()
        reported = [0.0]
        pending: set[concurrent.futures.Future[None]] = set()

        def on_frame(done: int, total: int) -> None:
            render.progress = done / total
            if on_progress is not None and (render.progress - reported[0] >= self._step
                                            or done == total):
                reported[0] = render.progress
                future = asyncio.run_coroutine_threadsafe(on_progress(render.progress), loop)
                pending.add(future)

        async with self._slots:
            if render.cancel.is_set():
                render.state = "cancelled"
                raise VideoCancelled("the render was cancelled", provider=self.name,
                                     code="cancelled")
            render.state = "rendering"
            try:
                video = await asyncio.to_thread(
                    render_talking_head, request, size=self._size, fps=self._fps,
                    threads=self._threads, on_frame=on_frame, cancelled=render.cancel.is_set)
            except VideoCancelled:
                render.state = "cancelled"
                raise
            except BaseException as exc:
                render.state, render.error = "failed", exc
                raise
            finally:
                for future in pending:
                    await asyncio.wrap_future(future)
        render.state, render.progress = "done", 1.0
        return video

    def _get(self, ref: VideoJobRef) -> _Render:
        render = self._renders.get(ref.job_id)
        if render is None:
            raise ProviderRejected("this render is not known here (its process restarted)",
                                     provider=self.name, code="unknown_job")
        return render

    async def status(self, ref: VideoJobRef) -> VideoStatus:
        render = self._get(ref)
        code = getattr(render.error, "code", None) if render.error else None
        return VideoStatus(render.state, progress=render.progress, error_code=code,
                           error_message=str(render.error) if render.error else None)

    async def result(self, ref: VideoJobRef) -> RenderedVideo:
        render = self._get(ref)
        if render.task is None:
            raise ProviderRejected("the result was already collected", provider=self.name,
                                   code="collected")
        try:
            return await asyncio.shield(render.task)
        finally:
            if render.task.done():
                render.task = None  # the status stays known; the video bytes are let go
                self._forget_finished()

    def _forget_finished(self, keep: int = 256) -> None:
        finished = [job_id for job_id, item in self._renders.items() if item.task is None]
        for job_id in finished[:max(0, len(finished) - keep)]:
            del self._renders[job_id]

    async def cancel(self, ref: VideoJobRef) -> bool:
        render = self._renders.get(ref.job_id)
        if render is None or render.state in ("done", "failed", "cancelled"):
            return False
        render.cancel.set()
        return True
