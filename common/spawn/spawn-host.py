"""The command host, in Python: the one a run uses on Linux (see spawner.ts; spawn-host.mjs is the same host in Node).

Why Python: starting a process is most of what a command costs. Node's spawn forks: the kernel copies the page tables
of the whole Node process, every page the host then writes is copied again, and the child tears that copy down to exec
bash. On a virtual machine each of those page-table operations is a trip to the hypervisor: about 12 ms of CPU per
command here. CPython's subprocess uses vfork on Linux (3.10 and later): the child borrows the host's memory until it
execs, and nothing is copied (about 4 ms, bash's own start included). It also starts in ~20 ms where Node takes ~90.

The protocol is spawn-host.mjs's, over Node's IPC channel in its JSON mode (one JSON document per line on the
descriptor NODE_CHANNEL_FD names): messages `spawn`, `stdin`, `stdin-end`, `kill` in; `ready`, `batch`, `error`
out. Bytes (output, input) travel as base64. Standard library only; run as `python3 -I -S -X utf8` (no site
packages, no PYTHON* variables: nothing from the operator's Python setup runs in here; commands, arguments and the
environment are UTF-8 whatever the locale, as Node encodes them).
"""

import base64
import errno
import json
import os
import selectors
import signal
import subprocess
import sys
import time

CHANNEL = int(os.environ["NODE_CHANNEL_FD"])

# The warm shell (spawn-host.mjs explains it): bash waits for its script on a pipe, here at descriptor FD (vfork
# leaves no room to move it to 3), ignoring a terminal's signals while it waits.
WARM_BOOT = (
    "trap '' INT TERM HUP QUIT; IFS= read -r -d \"\" __runbook_script <&{fd}; exec {fd}<&-; "
    'trap - INT TERM HUP QUIT; eval "unset __runbook_script; $__runbook_script"'
)
# bash reads the script a byte per system call: past this size, reading it costs more than the start saves.
WARM_MAX_SCRIPT = 2048
# Output waits this long for more before it is sent: too short for anyone to see, long enough to ride along.
OUTPUT_DELAY = 0.002
# How long the commands of a runner that left get after SIGTERM, before SIGKILL.
LEAVE_GRACE = 2.0

selector = selectors.DefaultSelector()
commands = {}  # id -> Command
retired = []  # warm shells told to exit, not yet reaped
warm = None
last_env = None
env_generation = 0
leaving_since = None
inbox = b""


def send(message):
    line = memoryview((json.dumps(message, separators=(",", ":")) + "\n").encode())
    try:
        while line:  # A signal (SIGCHLD) can cut a write short.
            line = line[os.write(CHANNEL, line) :]
    except OSError:
        leave()  # The runner is gone (EPIPE): take its commands with it.


def is_bash(shell):
    return isinstance(shell, str) and os.path.basename(shell) == "bash"


def argv_of(command, args, shell):
    """What Node's spawn would run, with bash started as bash-argv.mjs starts it (--norc)."""
    if is_bash(shell):
        return [shell, "--norc", "-c", " ".join([command, *args])]
    if isinstance(shell, str):
        return [shell, "-c", " ".join([command, *args])]
    if shell is True:
        return ["/bin/sh", "-c", " ".join([command, *args])]
    return [command, *args]


def start_time(pid):
    """/proc/PID/stat's 22nd field, as process-identity.mjs reads it; None where it cannot be told."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read().decode("latin-1")
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split(" ")[19]


def popen(argv, options, env, extra_fds=()):
    return subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=options.get("cwd") or None,
        env=env,
        start_new_session=bool(options.get("detached")),
        pass_fds=extra_fds,
        bufsize=0,
    )


class Streams:
    """The output pipes of a process, read by the loop; each closed through its file object, once."""

    def watch(self, process):
        self.files = {}
        for name in ("stdout", "stderr"):
            file = getattr(process, name)
            if file.closed:
                continue  # a warm shell's start-up closed it
            self.files[file.fileno()] = file
            selector.register(file.fileno(), selectors.EVENT_READ, (self, name))

    def stream_ended(self, fd):
        selector.unregister(fd)
        self.files.pop(fd).close()

    def unwatch(self):
        for fd in self.files:
            selector.unregister(fd)

    def close_streams(self):
        for fd, file in list(self.files.items()):
            selector.unregister(fd)
            file.close()
        self.files = {}


class Command(Streams):
    """A running command: its output batched for the runner, its input queued for its pipe."""

    def __init__(self, id, process, started, key, options, early=()):
        self.id = id
        self.key = key  # the warm shell its settings call for once it is done (None: it cannot use one)
        self.options = options
        self.process = process
        self.started = started
        self.pending = list(early)
        self.deadline = time.monotonic() + OUTPUT_DELAY  # the pid goes out soon, with or without output
        self.pid_sent = False
        self.stdin_queue = b""
        self.stdin_end = False
        self.closed = False
        self.watch(process)
        os.set_blocking(process.stdin.fileno(), False)

    def output(self, stream, data):
        if not self.pending:
            self.deadline = min(self.deadline or float("inf"), time.monotonic() + OUTPUT_DELAY)
        self.pending.append({"stream": stream, "data": base64.b64encode(data).decode()})

    def message(self, **extra):
        out = {"type": "batch", "id": self.id, "output": self.pending, **extra}
        if not self.pid_sent:
            out["pid"] = self.process.pid
            if self.started is not None:
                out["started"] = self.started
            self.pid_sent = True
        self.pending = []
        self.deadline = None
        return out

    def flush(self):
        if self.pending or not self.pid_sent:
            send(self.message())
        self.deadline = None

    def write_stdin(self, data=b"", end=False):
        self.stdin_queue += data
        self.stdin_end = self.stdin_end or end
        stdin = self.process.stdin
        if stdin is None or stdin.closed:
            return
        try:
            while self.stdin_queue:
                written = os.write(stdin.fileno(), self.stdin_queue)
                self.stdin_queue = self.stdin_queue[written:]
        except BlockingIOError:
            self.watch_stdin(True)
            return
        except OSError:
            self.stdin_queue = b""  # A command that exits without reading its input is not an error here.
        self.watch_stdin(False)
        if self.stdin_end:
            stdin.close()

    def watch_stdin(self, on):
        fd = self.process.stdin.fileno()
        registered = fd in selector.get_map()
        if on and not registered:
            selector.register(fd, selectors.EVENT_WRITE, (self, "stdin"))
        elif not on and registered:
            selector.unregister(fd)

    def finish_if_done(self):
        """Node's 'close': the process has exited and both its output streams are at their end."""
        if self.closed or self.files or self.process.poll() is None:
            return
        self.closed = True
        if self.process.stdin and not self.process.stdin.closed:
            self.watch_stdin(False)
            self.process.stdin.close()
        commands.pop(self.id, None)
        code = self.process.returncode
        close = {"code": code, "signal": None} if code >= 0 else {"code": None, "signal": signal.Signals(-code).name}
        if leaving_since is None:
            send(self.message(close=close))


class Warm(Streams):
    """A bash started ahead of the next command, waiting for its script."""

    def __init__(self, key, options, env):
        read_end, self.script = os.pipe()
        try:
            self.process = popen([options["shell"], "--norc", "-c", WARM_BOOT.format(fd=read_end)], options, env, (read_end,))
        finally:
            os.close(read_end)
        self.key = key
        self.started = start_time(self.process.pid)
        self.early = []  # what it printed at start-up (BASH_ENV), kept for its command
        self.watch(self.process)

    def output(self, stream, data):
        self.early.append({"stream": stream, "data": base64.b64encode(data).decode()})

    def retire(self):
        """An empty script: it exits at once, cleanly; reaped with the others."""
        os.close(self.script)
        retired.append(self)


def warm_key(command, args, options):
    if not is_bash(options.get("shell")) or args or len(command) > WARM_MAX_SCRIPT or "\0" in command:
        return None
    settings = {name: value for name, value in options.items() if name not in ("input", "signal")}
    return f"{env_generation}\0{json.dumps(settings, sort_keys=True)}"


def take_warm(key):
    global warm
    entry, warm = warm, None
    if entry is None:
        return None
    # We are its parent: a shell that died while it waited is seen here, whatever else is queued.
    if entry.key != key or entry.process.poll() is not None:
        entry.retire()
        return None
    entry.unwatch()  # its command reads these from now on
    return entry


def start(message):
    global last_env, env_generation
    id, command, args, options = message["id"], message["command"], message.get("args") or [], message.get("options") or {}
    if "env" in message:
        last_env = message["env"]
        env_generation += 1
    env = last_env if last_env is not None else dict(os.environ)
    key = warm_key(command, args, options)
    ready = take_warm(key) if key is not None else None
    if ready:
        try:
            os.write(ready.script, command.encode())
        except OSError:
            pass  # It died this instant: its exit reports the command killed, as a fresh shell killed at once would.
        os.close(ready.script)
        process, started, early = ready.process, ready.started, ready.early
    else:
        try:
            process = popen(argv_of(command, args, options.get("shell")), options, env)
        except Exception as error:  # noqa: BLE001 - whatever stops it from starting is that command's failure
            # Nothing started: as Node's own spawn does, the error is followed by the end, so no one waits forever.
            send(spawn_error(id, error, options.get("shell") or command))
            send({"type": "batch", "id": id, "output": [], "close": {"code": None, "signal": None}})
            return
        started, early = start_time(process.pid), ()
    commands[id] = Command(id, process, started, key, options, early)


def spawn_error(id, error, file):
    if isinstance(error, OSError) and error.errno:
        code = errno.errorcode.get(error.errno, "EUNKNOWN")
        return {"type": "error", "id": id, "message": f"spawn {file} {code}", "code": code, "errno": -error.errno}
    # Node refuses these (a NUL in an argument or the environment, a string it cannot encode) before starting anything.
    return {"type": "error", "id": id, "message": str(error), "code": "ERR_INVALID_ARG_VALUE"}


def start_next_warm(command):
    """Once a command is done, the next shell starts with its settings, while the runner records the step."""
    global warm
    if warm is not None or command.key is None or leaving_since is not None or not last_env_matches(command.key):
        return
    try:
        warm = Warm(command.key, command.options, last_env)
    except Exception:  # noqa: BLE001
        warm = None  # The next command starts fresh and reports the problem.


def last_env_matches(key):
    return key.startswith(f"{env_generation}\0")


def descendants(pid):
    try:
        table = subprocess.run(["ps", "-A", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    except OSError:
        return []
    children = {}
    for line in table.splitlines():
        parts = line.split()
        if len(parts) == 2:
            children.setdefault(int(parts[1]), []).append(int(parts[0]))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def kill_tree(command, signame):
    sig = signal.Signals(signame) if isinstance(signame, int) else signal.Signals[signame]
    pid = command.process.pid
    if command.options.get("detached"):
        # A group that outlived its leader is still signalled; a pid that names another process now is not.
        now = start_time(pid)
        if command.started is not None and now is not None and now != command.started:
            return
        try:
            os.killpg(pid, sig)
        except OSError:
            pass
        return
    if command.process.poll() is not None:
        return  # Reaped: its pid is free for anyone.
    for target in [pid, *descendants(pid)]:
        try:
            os.kill(target, sig)
        except OSError:
            pass


def leave():
    """The runner is gone (finished, or killed): take its commands down, reap them, then go."""
    global leaving_since, warm
    if leaving_since is not None:
        return
    leaving_since = time.monotonic()
    if warm is not None:
        warm.retire()
        warm = None
    for command in list(commands.values()):
        kill_tree(command, "SIGTERM")


def handle(message):
    kind = message.get("type")
    if kind == "spawn":
        start(message)
    elif kind in ("stdin", "stdin-end"):
        command = commands.get(message["id"])
        if command:
            command.write_stdin(base64.b64decode(message.get("data", "")), end=kind == "stdin-end")
    elif kind == "kill":
        command = commands.get(message["id"])
        if command:
            kill_tree(command, message["signal"])


def read_channel():
    global inbox
    try:
        data = os.read(CHANNEL, 1 << 16)
    except OSError:
        data = b""
    if not data:
        selector.unregister(CHANNEL)
        leave()
        return
    inbox += data
    *lines, inbox = inbox.split(b"\n")
    for line in lines:
        if line:
            message = json.loads(line)
            # Node's own control messages (handle passing) are not ours.
            if not str(message.get("cmd", "")).startswith("NODE_"):
                handle(message)


def main():
    # Ctrl-C reaches the whole terminal process group: the host stays up for the rollbacks that follow. A handler,
    # not SIG_IGN, so the commands it starts get the default back when they exec. SIGCHLD wakes the loop.
    # Writes wait for room (a burst of output while the runner is busy is not a runner gone); reads happen only once
    # the loop saw data.
    os.set_blocking(CHANNEL, True)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector.register(wake_read, selectors.EVENT_READ, "wake")
    selector.register(CHANNEL, selectors.EVENT_READ, "channel")
    send({"type": "ready"})
    while True:
        now = time.monotonic()
        deadlines = [command.deadline for command in commands.values() if command.deadline is not None]
        if leaving_since is not None:
            deadlines.append(leaving_since + LEAVE_GRACE)
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        for key, mask in selector.select(timeout):
            owner = key.data
            if owner == "wake":
                try:
                    os.read(wake_read, 512)
                except BlockingIOError:
                    pass
            elif owner == "channel":
                read_channel()
            else:
                source, name = owner
                if name == "stdin":
                    source.write_stdin()
                    continue
                data = os.read(key.fd, 1 << 16)
                if data:
                    source.output(name, data)
                else:
                    source.stream_ended(key.fd)
        for command in list(commands.values()):
            command.finish_if_done()
            if command.closed and leaving_since is None:
                start_next_warm(command)
        for entry in retired[:]:
            if entry.process.poll() is not None:
                retired.remove(entry)
                entry.close_streams()
                entry.process.stdin.close()
        now = time.monotonic()
        if leaving_since is None:
            for command in list(commands.values()):
                if command.deadline is not None and command.deadline <= now:
                    command.flush()
        elif not commands or now >= leaving_since + LEAVE_GRACE:
            for command in list(commands.values()):
                kill_tree(command, "SIGKILL")
            sys.exit(0)


main()
