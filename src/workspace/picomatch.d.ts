// picomatch ships no types of its own; these are the calls dvs makes (src/workspace/glob.ts).
declare module 'picomatch' {
  interface PicomatchOptions {
    dot?: boolean;
  }
  interface ScanState {
    base: string;
    glob: string;
    isGlob: boolean;
    negated: boolean;
  }
  interface Picomatch {
    (glob: string, options?: PicomatchOptions): (path: string) => boolean;
    scan(input: string): ScanState;
  }
  const picomatch: Picomatch;
  export default picomatch;
}
