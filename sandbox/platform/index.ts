import type { SandboxComponent } from '../types.ts';

/** The platform side of the sandbox (VPS over SSH, containers, backend, monitor), started after the identity side. */
export const platformComponents: SandboxComponent[] = [];
