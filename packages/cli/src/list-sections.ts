/** The sections of `mmsim list` (a module of its own: cli.ts names them in its help without loading list.ts). */
export const LIST_SECTIONS = ['presets', 'hardware', 'policies', 'hooks', 'counters', 'profiles', 'ops'] as const;
export type ListSection = (typeof LIST_SECTIONS)[number];
