// The device profiles by name (`--profile NAME`, the `profile` fleet option).

import { SimError } from '../errors.js';
import { ENVIRONMENT_PROFILE } from './environment.js';
import { GPS_PROFILE } from './gps.js';
import { PLUG_PROFILE } from './plug.js';
import type { ProfileDefinition } from './profile.js';
import { VIBRATION_PROFILE } from './vibration.js';

export const PROFILE_NAMES = ['environment', 'vibration', 'gps', 'plug'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];
export const DEFAULT_PROFILE: ProfileName = 'environment';

export const PROFILES: Readonly<Record<ProfileName, ProfileDefinition>> = {
  environment: ENVIRONMENT_PROFILE,
  vibration: VIBRATION_PROFILE,
  gps: GPS_PROFILE,
  plug: PLUG_PROFILE,
};

export function isProfileName(name: unknown): name is ProfileName {
  return typeof name === 'string' && (PROFILE_NAMES as readonly string[]).includes(name);
}

/** The profile called `name`; InvalidArgumentException naming the choices otherwise. */
export function profileNamed(name: string): ProfileDefinition {
  if (!isProfileName(name)) throw new SimError('InvalidArgumentException', `profile must be one of ${PROFILE_NAMES.join(', ')}, got "${name}"`);
  return PROFILES[name];
}

export type { DeviceProfile, MetricSpec, ProfileDefinition, Reading, ShadowHandler } from './profile.js';
