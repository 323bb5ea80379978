// Minimal typings for cli-progress 3 (the package ships none; @types/cli-progress is not installed).
declare module 'cli-progress' {
  export interface Options {
    stream?: NodeJS.WritableStream;
    format?: string;
    hideCursor?: boolean;
    clearOnComplete?: boolean;
    stopOnComplete?: boolean;
    barsize?: number;
    fps?: number;
    gracefulExit?: boolean;
    linewrap?: boolean;
    noTTYOutput?: boolean;
    etaBuffer?: number;
  }
  export interface Preset {
    barCompleteChar?: string;
    barIncompleteChar?: string;
    format?: string;
  }
  export class SingleBar {
    constructor(options: Options, preset?: Preset);
    start(total: number, startValue: number, payload?: Record<string, unknown>): void;
    update(current: number, payload?: Record<string, unknown>): void;
    setTotal(total: number): void;
    stop(): void;
  }
  export const Presets: { shades_classic: Preset; legacy: Preset; rect: Preset; shades_grey: Preset };
  const cliProgress: { SingleBar: typeof SingleBar; Presets: typeof Presets };
  export default cliProgress;
}
