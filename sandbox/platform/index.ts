import type { SandboxComponent } from '../types.ts';
import { createPlatformComponent } from './platform.ts';

export { createPlatformComponent, platformOf, ORG_ID, SSH_ALIAS, VPS_USER, type Platform, type PlatformOptions } from './platform.ts';
export type { MonitorReport, DeadWindow, Leak } from './monitor.ts';

/** The platform side of the sandbox (VPS over SSH, containers, backend, monitor), started after the identity side. */
export const platformComponents: SandboxComponent[] = [createPlatformComponent()];
