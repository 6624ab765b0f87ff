import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A file a VPS command created, with its permission bits at the moment it came to be, before its first byte. */
export interface Creation {
  path: string;
  mode: number;
}

/**
 * Python's every way of creating a file (`os.open`, `open`, `io.open`, so `pathlib` and `shutil` too), wrapped to note
 * the new file's mode read with fstat right after the creating call returns: the earliest moment anyone can see it, so
 * a file created wide and narrowed afterwards shows its wide mode here, however short that window was.
 */
const SITECUSTOMIZE = String.raw`
import builtins, io, json, os

_record = os.environ["RUNBOOK_CREATION_RECORD"]
_os_open, _io_open = os.open, io.open

def _note(name, fd):
    line = json.dumps({"path": os.path.abspath(os.fsdecode(name)), "mode": os.fstat(fd).st_mode & 0o7777}) + "\n"
    out = _os_open(_record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(out, line.encode())
    finally:
        os.close(out)

def _new(name):
    return not isinstance(name, int) and not os.path.lexists(name)

def _recording_os_open(name, flags, mode=0o777, *, dir_fd=None):
    new = dir_fd is None and flags & os.O_CREAT and _new(name)
    fd = _os_open(name, flags, mode, dir_fd=dir_fd)
    if new:
        _note(name, fd)
    return fd

def _recording_open(file, mode="r", *args, **kwargs):
    new = any(flag in mode for flag in "wxa+") and _new(file)
    handle = _io_open(file, mode, *args, **kwargs)
    if new:
        _note(file, handle.fileno())
    return handle

os.open = _recording_os_open
io.open = builtins.open = _recording_open
`;

/**
 * Installs the record on a sandbox VPS: its `python3` (the VPS user's, first on PATH) becomes a wrapper that loads the
 * recording `sitecustomize` and then runs the system python unchanged. Returns how to read what was recorded.
 */
export function recordPythonCreations(vpsHome: string): () => Creation[] {
  const dir = path.join(vpsHome, '..', 'creation-record');
  const record = path.join(dir, 'creations.jsonl');
  mkdirSync(path.join(dir, 'site'), { recursive: true });
  writeFileSync(path.join(dir, 'site', 'sitecustomize.py'), SITECUSTOMIZE);
  const python = path.join(vpsHome, 'bin', 'python3');
  rmSync(python, { force: true });
  writeFileSync(
    python,
    `#!/bin/sh\nPYTHONPATH='${path.join(dir, 'site')}'\${PYTHONPATH:+:$PYTHONPATH} RUNBOOK_CREATION_RECORD='${record}' exec /usr/bin/python3 "$@"\n`,
    { mode: 0o755 },
  );
  return () =>
    existsSync(record)
      ? readFileSync(record, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Creation)
      : [];
}
