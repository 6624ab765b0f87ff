import * as fs from 'node:fs';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import ssh2 from 'ssh2';
import type { SFTPWrapper, Attributes, FileEntry, InputAttributes } from 'ssh2';

const { OPEN_MODE, STATUS_CODE } = ssh2.utils.sftp;

type Handle =
  | { kind: 'file'; fd: number; path: string }
  | { kind: 'dir'; path: string; sent: boolean };

/**
 * The handful of SFTP operations OpenSSH's `scp` (SFTP mode, the default since 9.0) and `sftp` use, over the real file
 * system with paths relative to the VPS home. Synchronous fs calls: files are small and local, and ordering of replies
 * then matches ordering of requests for free.
 */
export function serveSftp(sftp: SFTPWrapper, home: string, onBytes: (n: number) => void, umask = 0o022): void {
  const handles = new Map<number, Handle>();
  let nextHandle = 1;
  const abs = (p: string): string => normalize(isAbsolute(p) ? p : resolve(home, p || '.'));
  const newHandle = (h: Handle): Buffer => {
    const id = nextHandle++;
    handles.set(id, h);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(id);
    return buf;
  };
  const lookup = (buf: Buffer): [number, Handle | undefined] => {
    const id = buf.length === 4 ? buf.readUInt32BE(0) : -1;
    return [id, handles.get(id)];
  };
  /** Runs an fs operation and turns an errno into the SFTP status a client expects. */
  const guard = (reqid: number, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      sftp.status(reqid, statusFor(err as NodeJS.ErrnoException), (err as Error).message);
    }
  };

  sftp.on('REALPATH', (reqid, path) => guard(reqid, () => {
    const p = abs(path);
    sftp.name(reqid, [{ filename: p, longname: p, attrs: {} as Attributes }]);
  }));
  sftp.on('STAT', (reqid, path) => guard(reqid, () => sftp.attrs(reqid, toAttrs(fs.statSync(abs(path))))));
  sftp.on('LSTAT', (reqid, path) => guard(reqid, () => sftp.attrs(reqid, toAttrs(fs.lstatSync(abs(path))))));
  sftp.on('FSTAT', (reqid, handle) => guard(reqid, () => {
    const [, h] = lookup(handle);
    if (h?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    sftp.attrs(reqid, toAttrs(fs.fstatSync(h.fd)));
  }));
  sftp.on('OPEN', (reqid, filename, flags, attrs) => guard(reqid, () => {
    const path = abs(filename);
    // Like OpenSSH's sftp-server: the client's requested mode, filtered by the session's umask, so a 600 file stays
    // 600. An existing file keeps its mode (open(2) applies it only at creation): a mktemp'd 600 target stays 600.
    const mode = (attrs.mode !== undefined ? attrs.mode & 0o7777 : 0o666) & ~umask;
    const fd = fs.openSync(path, toFsFlags(flags), mode);
    sftp.handle(reqid, newHandle({ kind: 'file', fd, path }));
  }));
  sftp.on('WRITE', (reqid, handle, offset, data) => guard(reqid, () => {
    const [, h] = lookup(handle);
    if (h?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    onBytes(data.length);
    fs.writeSync(h.fd, data, 0, data.length, offset);
    sftp.status(reqid, STATUS_CODE.OK);
  }));
  sftp.on('READ', (reqid, handle, offset, length) => guard(reqid, () => {
    const [, h] = lookup(handle);
    if (h?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    const buf = Buffer.alloc(Math.min(length, 256 * 1024));
    const n = fs.readSync(h.fd, buf, 0, buf.length, offset);
    if (n === 0) return sftp.status(reqid, STATUS_CODE.EOF);
    onBytes(n);
    sftp.data(reqid, buf.subarray(0, n));
  }));
  sftp.on('CLOSE', (reqid, handle) => guard(reqid, () => {
    const [id, h] = lookup(handle);
    if (!h) return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    handles.delete(id);
    if (h.kind === 'file') fs.closeSync(h.fd);
    sftp.status(reqid, STATUS_CODE.OK);
  }));
  sftp.on('SETSTAT', (reqid, path, attrs) => guard(reqid, () => {
    applyAttrs(abs(path), attrs);
    sftp.status(reqid, STATUS_CODE.OK);
  }));
  sftp.on('FSETSTAT', (reqid, handle, attrs) => guard(reqid, () => {
    const [, h] = lookup(handle);
    if (h?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    applyAttrs(h.path, attrs, h.fd);
    sftp.status(reqid, STATUS_CODE.OK);
  }));
  sftp.on('OPENDIR', (reqid, path) => guard(reqid, () => {
    const p = abs(path);
    if (!fs.statSync(p).isDirectory()) return sftp.status(reqid, STATUS_CODE.FAILURE, 'not a directory');
    sftp.handle(reqid, newHandle({ kind: 'dir', path: p, sent: false }));
  }));
  sftp.on('READDIR', (reqid, handle) => guard(reqid, () => {
    const [, h] = lookup(handle);
    if (h?.kind !== 'dir') return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    if (h.sent) return sftp.status(reqid, STATUS_CODE.EOF);
    h.sent = true;
    const names: FileEntry[] = ['.', '..', ...fs.readdirSync(h.path)].map((name) => {
      const st = fs.lstatSync(join(h.path, name));
      return { filename: name, longname: longname(name, st), attrs: toAttrs(st) };
    });
    sftp.name(reqid, names);
  }));
  sftp.on('REMOVE', (reqid, path) => guard(reqid, () => { fs.unlinkSync(abs(path)); sftp.status(reqid, STATUS_CODE.OK); }));
  sftp.on('RMDIR', (reqid, path) => guard(reqid, () => { fs.rmdirSync(abs(path)); sftp.status(reqid, STATUS_CODE.OK); }));
  sftp.on('MKDIR', (reqid, path, attrs) => guard(reqid, () => {
    fs.mkdirSync(abs(path), { mode: attrs.mode !== undefined ? attrs.mode & 0o7777 : 0o777 });
    sftp.status(reqid, STATUS_CODE.OK);
  }));
  sftp.on('RENAME', (reqid, from, to) => guard(reqid, () => {
    // SFTP v3 rename must not overwrite (OpenSSH's sftp-server uses link+unlink for that reason).
    if (fs.existsSync(abs(to))) return sftp.status(reqid, STATUS_CODE.FAILURE, 'target exists');
    fs.renameSync(abs(from), abs(to));
    sftp.status(reqid, STATUS_CODE.OK);
  }));
  sftp.on('READLINK', (reqid, path) => guard(reqid, () => {
    const target = fs.readlinkSync(abs(path));
    sftp.name(reqid, [{ filename: target, longname: target, attrs: {} as Attributes }]);
  }));
  sftp.on('SYMLINK', (reqid, linkPath, targetPath) => guard(reqid, () => {
    fs.symlinkSync(targetPath, abs(linkPath));
    sftp.status(reqid, STATUS_CODE.OK);
  }));
  sftp.on('EXTENDED', (reqid) => sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED));
  // The client's EOF ends the subsystem: like sftp-server exiting, which makes sshd close the channel.
  sftp.on('end', () => {
    for (const h of handles.values()) if (h.kind === 'file') fs.closeSync(h.fd);
    handles.clear();
    // scp (SFTP mode) fails the copy when ssh ends with no exit status; sshd sends sftp-server's 0 before closing.
    const raw = sftp as unknown as { _protocol?: { exitStatus(id: number, code: number): void }; outgoing?: { id: number; state?: string } };
    if (raw.outgoing?.state === 'open') raw._protocol?.exitStatus(raw.outgoing.id, 0);
    sftp.end();
  });
}

function toFsFlags(flags: number): number {
  const c = fs.constants;
  let out = 0;
  if (flags & OPEN_MODE.READ && flags & OPEN_MODE.WRITE) out |= c.O_RDWR;
  else if (flags & OPEN_MODE.WRITE) out |= c.O_WRONLY;
  else out |= c.O_RDONLY;
  if (flags & OPEN_MODE.APPEND) out |= c.O_APPEND;
  if (flags & OPEN_MODE.CREAT) out |= c.O_CREAT;
  if (flags & OPEN_MODE.TRUNC) out |= c.O_TRUNC;
  if (flags & OPEN_MODE.EXCL) out |= c.O_EXCL;
  return out;
}

function applyAttrs(path: string, attrs: InputAttributes, fd?: number): void {
  if (attrs.size !== undefined) {
    if (fd !== undefined) fs.ftruncateSync(fd, attrs.size);
    else fs.truncateSync(path, attrs.size);
  }
  if (attrs.mode !== undefined) fs.chmodSync(path, Number(attrs.mode) & 0o7777);
  if (attrs.atime !== undefined && attrs.mtime !== undefined) fs.utimesSync(path, attrs.atime, attrs.mtime);
}

function toAttrs(st: fs.Stats): Attributes {
  return {
    mode: st.mode, uid: st.uid, gid: st.gid, size: st.size,
    atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000),
  };
}

function longname(name: string, st: fs.Stats): string {
  const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : '-';
  const bits = 'rwxrwxrwx'.split('').map((ch, i) => (st.mode & (1 << (8 - i)) ? ch : '-')).join('');
  const date = st.mtime.toUTCString().slice(5, 22);
  return `${type}${bits} 1 ${st.uid} ${st.gid} ${String(st.size).padStart(8)} ${date} ${name}`;
}

function statusFor(err: NodeJS.ErrnoException): number {
  switch (err.code) {
    case 'ENOENT': return STATUS_CODE.NO_SUCH_FILE;
    case 'EACCES': case 'EPERM': return STATUS_CODE.PERMISSION_DENIED;
    default: return STATUS_CODE.FAILURE;
  }
}
