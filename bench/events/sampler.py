"""Run uvicorn under a small sampling profiler: `python bench/events/sampler.py OUT.json <uvicorn arguments>`.

A thread looks at the event loop thread's stack every few milliseconds and counts, per function, the samples where
it was running (self) and where it was on the stack (inclusive), and each whole stack; the counts are written to
OUT.json when uvicorn exits (stop it with SIGINT: uvicorn raises the signal again once shut down, and
KeyboardInterrupt lets us write). A stack whose top is asyncio's Runner.run is the loop itself: uvloop, in C, waiting
or doing its own work (socket I/O, HTTP parsing, asyncpg's protocol). Other threads are sampled too when they are
not waiting for work (on SQLite the SQL runs in aiosqlite's worker threads), so a sample may count several stacks. Unlike cProfile, the cost does not grow with the number of calls, so small, often
called functions are not inflated.
"""

import json
import sys
import threading
from collections import Counter

INTERVAL_S = 0.004
# Where a worker thread waits for work
WAITING = {"wait", "get", "_worker", "select"}


def where(code) -> str:
    return f"{code.co_filename}:{code.co_firstlineno}:{code.co_qualname}"


def main() -> None:
    out, arguments = sys.argv[1], sys.argv[2:]
    main_thread = threading.get_ident()
    own, inclusive, stacks = Counter(), Counter(), Counter()
    samples = [0]
    stop = threading.Event()

    def sample() -> None:
        me = threading.get_ident()
        while not stop.wait(INTERVAL_S):
            samples[0] += 1
            for ident, frame in sys._current_frames().items():
                if ident == me or (ident != main_thread and frame.f_code.co_name in WAITING):
                    continue  # a worker thread (aiosqlite's, say) waiting for work is not working
                own[where(frame.f_code)] += 1
                stack = []
                while frame is not None:
                    stack.append(where(frame.f_code))
                    frame = frame.f_back
                inclusive.update(set(stack))
                stacks[";".join(reversed(stack))] += 1

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    sys.argv = ["uvicorn", *arguments]
    try:
        import uvicorn.main

        uvicorn.main.main()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stop.set()
        sampler.join()
        with open(out, "w") as handle:
            json.dump(
                {
                    "samples": samples[0],
                    "interval_s": INTERVAL_S,
                    "self": own,
                    "inclusive": inclusive,
                    "stacks": stacks,
                },
                handle,
            )


if __name__ == "__main__":
    main()
