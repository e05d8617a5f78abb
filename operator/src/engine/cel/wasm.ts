/**
 * The CEL evaluator: the API server's own CEL compiler and ValidatingAdmissionPolicy
 * semantics (Go module operator/cel, k8s.io/apiserver at the version the control plane pins),
 * built to WebAssembly by scripts/cel-build.sh and run here under WASI preview 1. Loaded
 * lazily, once per process, the first time a policy has custom rules: everything else in the
 * engine never pays for it.
 *
 * Calling convention (operator/cel/main.go): alloc(n) gives a buffer for a JSON request, an
 * export takes (ptr, len) and returns its JSON answer packed as ptr << 32 | len.
 */
// The one read here is of the evaluator's own code (like an import), never of inputs: the engine stays pure.
// eslint-disable-next-line no-restricted-imports
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const WASM_FILE = 'vigil-cel.wasm';

/** Where the .wasm is: beside this module in the package (dist/), in .vigil/cel/ in a clone. */
export function wasmCandidates(): string[] {
  const fromEnv = process.env['VIGIL_CEL_WASM'];
  return [
    ...(fromEnv ? [fromEnv] : []),
    fileURLToPath(new URL(WASM_FILE, import.meta.url)),
    fileURLToPath(new URL(`../../../../.vigil/cel/${WASM_FILE}`, import.meta.url)),
  ];
}

/** The part of the WebAssembly global used here (tsconfig has no DOM library to declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer };
  alloc(size: number): number;
  compile(ptr: number, len: number): bigint;
  evaluate(ptr: number, len: number): bigint;
  release(handle: number): void;
  info(): bigint;
}

/** A CEL compile error, as the API server reports it. */
export interface CelCompileError {
  /** Which expression: `variables[0].expression`, `validations[1].messageExpression`. */
  field: string;
  expression: string;
  /** The API server's message (`compilation failed: ERROR: <input>:1:5: …`). */
  message: string;
  /** Line and column (1-based) of each problem CEL reports. */
  positions?: { line: number; column: number; message: string }[];
}

/** One validation's verdict, as the API server's PolicyDecision: admit, deny (false) or error. */
export interface CelDecision {
  evaluation: 'admit' | 'deny' | 'error';
  message?: string;
  reason?: string;
}

export interface CelRuleSource {
  variables: { name: string; expression: string }[];
  validations: { expression: string; message?: string; messageExpression?: string }[];
}

export interface CelInput {
  object: unknown;
  oldObject?: unknown;
  /** The object's Namespace, for `namespaceObject`. */
  namespace?: unknown;
  /** Runtime cost budget; 0 or absent is the API server's (RuntimeCELCostBudget, 10 000 000). */
  budget?: number;
}

/** One decision per validation, in order; `error` when the request itself was unusable. */
export interface EvaluateAnswer {
  decisions: CelDecision[];
  error?: string;
}

export interface CelInfo {
  environmentVersion: string;
  runtimeCostBudget: number;
  perCallLimit: number;
}

class Evaluator {
  private readonly x: Exports;
  private readonly enc = new TextEncoder();
  private readonly dec = new TextDecoder();

  constructor(bytes: Uint8Array) {
    // No preopened directories and no environment: the evaluator sees nothing of the host. One
    // argument, the program name (klog's init reads os.Args[0]).
    this.x = quietly(() => {
      // node:wasi is loaded here, not imported: loading it is what emits the warning.
      const { WASI } = process.getBuiltinModule('node:wasi');
      const wasi = new WASI({ version: 'preview1', args: ['vigil-cel'], env: {}, returnOnExit: true });
      const module = new WebAssembly.Module(bytes);
      const instance = new WebAssembly.Instance(module, wasi.getImportObject());
      wasi.initialize(instance);
      return instance.exports as unknown as Exports;
    });
  }

  private call(fn: (ptr: number, len: number) => bigint, request: unknown): unknown {
    return this.callJson(fn, JSON.stringify(request));
  }

  private callJson(fn: (ptr: number, len: number) => bigint, json: string): unknown {
    const bytes = this.enc.encode(json);
    const ptr = this.x.alloc(bytes.length);
    new Uint8Array(this.x.memory.buffer, ptr, bytes.length).set(bytes);
    return this.answer(fn(ptr, bytes.length));
  }

  private answer(packed: bigint): unknown {
    const ptr = Number(packed >> 32n);
    const len = Number(packed & 0xffffffffn);
    return JSON.parse(this.dec.decode(new Uint8Array(this.x.memory.buffer, ptr, len))) as unknown;
  }

  compile(src: CelRuleSource): { handle: number; errors: CelCompileError[] } {
    return this.call(this.x.compile.bind(this.x), src) as { handle: number; errors: CelCompileError[] };
  }

  evaluate(handle: number, input: CelInput): EvaluateAnswer {
    this.held = undefined;
    return this.call(this.x.evaluate.bind(this.x), { handle, ...input }) as EvaluateAnswer;
  }

  /** The object (and Namespace) of the last evaluateObject: the evaluator still holds them decoded. */
  private held: { object: object; namespace: object | undefined; id: number } | undefined;
  private nextId = 1;

  /**
   * evaluate() for the engine: the rules judging one object one after the other (as the
   * evaluation loop calls them) send and decode it once; the evaluator keeps the last object.
   */
  evaluateObject(handle: number, object: object, namespace?: object): EvaluateAnswer {
    const h = this.held;
    if (h?.object === object && h.namespace === namespace) {
      const again = this.callJson(
        this.x.evaluate.bind(this.x),
        `{"handle":${String(handle)},"objectId":${String(h.id)}}`,
      ) as EvaluateAnswer;
      if (again.error === undefined || !again.error.includes('no longer held')) return again;
    }
    const id = this.nextId++;
    this.held = { object, namespace, id };
    return this.call(this.x.evaluate.bind(this.x), {
      handle,
      objectId: id,
      object,
      ...(namespace === undefined ? {} : { namespace }),
    }) as EvaluateAnswer;
  }

  release(handle: number): void {
    this.x.release(handle);
  }

  info(): CelInfo {
    return this.answer(this.x.info()) as CelInfo;
  }
}

/**
 * node:wasi warns that it is experimental on first use; `vigil scan` output is no place for that.
 * Only that warning is dropped, and only while `fn` runs.
 */
function quietly<T>(fn: () => T): T {
  const emit = process.emitWarning.bind(process);
  process.emitWarning = (warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.includes('WASI')) return;
    (emit as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
  };
  try {
    return fn();
  } finally {
    process.emitWarning = emit;
  }
}

let loaded: Evaluator | undefined;

/** The process's evaluator, loaded on first use. Throws, saying how to build it, when the .wasm is missing. */
export function evaluator(): Evaluator {
  if (loaded) return loaded;
  const path = wasmCandidates().find((p) => existsSync(p));
  if (!path)
    throw new Error(
      `the CEL evaluator (${WASM_FILE}) is not built: run \`make setup-cel\` (bash scripts/cel-build.sh); looked in ${wasmCandidates().join(', ')}`,
    );
  loaded = new Evaluator(readFileSync(path));
  return loaded;
}

export type { Evaluator };
