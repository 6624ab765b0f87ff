import type { Clipboard, FaultSpec, Faults } from '../types.ts';

/**
 * The platform side's faults that are not consumed where they happen (ssh-drop in the SSH server, container-unhealthy
 * in the container runtime, subscription-lapse in the backend's renewal): clipboard paste faults wrap reads.
 * Returns the undo.
 */
export function wrapClipboard(clipboard: Clipboard, faults: Faults): () => void {
  const read = clipboard.read;
  clipboard.read = () => {
    let text = read.call(clipboard);
    const truncate = faults.take('clipboard-truncate');
    if (truncate) {
      const keep = Number(truncate.params?.length ?? Math.floor(text.length / 2));
      text = text.slice(0, Math.max(0, keep));
    }
    const newline = faults.take('clipboard-newline');
    if (newline) text += String(newline.params?.text ?? '\n').repeat(Number(newline.params?.count ?? 1));
    return text;
  };
  return () => { clipboard.read = read; };
}

/** `ssh-drop`: drop at connect, or after `afterBytes` bytes of payload (mid-transfer). */
export function sshDropPolicy(faults: Faults): () => 'now' | number | undefined {
  return () => {
    const spec = faults.take('ssh-drop');
    if (!spec) return undefined;
    const after = spec.params?.afterBytes;
    return after === undefined ? 'now' : Number(after);
  };
}

/** Consumes a `container-unhealthy` fault aimed at `container` (or at any backend container when it names none). */
export function takeUnhealthy(faults: Faults, container: string): boolean {
  const aimedHere = (spec: FaultSpec) => spec.params?.container === undefined || spec.params.container === container;
  return faults.take('container-unhealthy', aimedHere) !== undefined;
}
