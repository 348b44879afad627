"""The pages a studio server serves: each browser session's own `Studio` and `TalkingHead`, and
when a page is gone (closed, or silent too long) its work is paused, then removed."""

import secrets
import threading
import time
from pathlib import Path

import gradio as gr

from reanimate.app.studio import Studio
from reanimate.app.talk import TalkingHead
from reanimate.core.errors import UserError

UNLOAD_GRACE = 15.0  # seconds a page that the browser reported closed may take to come back (a dropped connection)


class Sessions:
    """One `Studio` and one `TalkingHead` per browser session, in its own random folder under `root`.

    A session ends (training stopped, folder removed) when its page has been silent for
    `idle_timeout` seconds. A page the browser reported closed has its training paused after
    UNLOAD_GRACE seconds, so a closed tab stops using the cores at once; the rest waits for
    `idle_timeout`, since Gradio reports a dropped connection (a laptop lid, a Wi-Fi drop) the
    same way and such a page comes back to find its work where it was.
    """

    def __init__(self, root: Path, device: str, idle_timeout: float, max_sessions: int = 16):
        self.root, self.device, self.idle_timeout, self.max_sessions = root, device, idle_timeout, max_sessions
        self._studios: dict[str, Studio] = {}
        self._talks: dict[str, TalkingHead] = {}  # each page's talking-head tab, in its studio's folder
        self._unloaded: set[str] = set()
        self._lock = threading.Lock()

    def get(self, request: gr.Request) -> Studio:
        key = request.session_hash
        with self._lock:
            self._unloaded.discard(key)
            if key not in self._studios:
                if len(self._studios) >= self.max_sessions:
                    raise UserError(f"the studio already serves {self.max_sessions} pages: close one and reload")
                folder = self.root / "sessions" / secrets.token_hex(8)  # never a name the browser chose
                self._studios[key] = Studio(folder, self.device, self.idle_timeout)
                self._talks[key] = TalkingHead(folder / "talk", self.device)
            studio = self._studios[key]
            studio.heartbeat()  # under the lock, so that `reap` cannot close what it hands out
        return studio

    def talk(self, request: gr.Request) -> TalkingHead:
        """The page's talking-head tab (its studio counts the visit, as `get` does)."""
        self.get(request)
        with self._lock:
            return self._talks[request.session_hash]

    def unload(self, request: gr.Request) -> None:
        with self._lock:
            if request.session_hash in self._studios:
                self._unloaded.add(request.session_hash)

    def reap(self) -> None:
        """Pause the training of closed pages; close the sessions whose pages are gone."""
        with self._lock:
            closed = {key for key in self._unloaded if self._studios[key].idle_seconds() > UNLOAD_GRACE}
            self._unloaded -= closed
            to_pause = [self._studios[key] for key in closed]
            gone = [key for key, studio in self._studios.items() if studio.idle_seconds() > self.idle_timeout]
            studios = [self._studios.pop(key) for key in gone]
            for key in gone:
                self._talks.pop(key, None)
            self._unloaded -= set(gone)
        for studio in to_pause:
            studio.pause_for_absence()
        for studio in studios:
            studio.close()

    def reap_forever(self, every: float = 2.0) -> None:
        while True:
            time.sleep(every)
            self.reap()

    def close_all(self) -> None:
        with self._lock:
            studios, self._studios, self._talks = list(self._studios.values()), {}, {}
        for studio in studios:
            studio.close()
