/** The policy API's version, and the check that a plugin was built for a compatible one. */
import semver from 'semver';

/**
 * The version of the policy API (`PolicyContext`, the hooks and their contexts). It follows
 * semver: a minor adds, a major breaks. A plugin states the range it was built for as `api`.
 */
export const POLICY_API_VERSION = '1.0.0';

/** apiMismatch() of each range string seen (a pure function of it; every composed system asks again). */
const checked = new Map<string, string | null>();

/** null when `range` accepts this core's API, else why not. */
export function apiMismatch(range: unknown): string | null {
  if (typeof range === 'string') {
    const known = checked.get(range);
    if (known !== undefined) return known;
    const why = mismatch(range);
    if (checked.size < 256) checked.set(range, why);
    return why;
  }
  return mismatch(range);
}

function mismatch(range: unknown): string | null {
  if (typeof range !== 'string' || semver.validRange(range) === null) {
    return `its "api" field ${JSON.stringify(range)} is not a semver range such as "^1.0.0"`;
  }
  if (!semver.satisfies(POLICY_API_VERSION, range)) {
    return `it was built for policy API ${range}, but this @mmsim/core provides ${POLICY_API_VERSION}`;
  }
  return null;
}
