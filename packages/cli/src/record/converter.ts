/** The valgrind log converter lives in @mmsim/program-trace (shared with `mmsim import --from lackey`). */
export { type ConverterStats, LogConverter, PAGE_SHIFT } from '@mmsim/program-trace';
