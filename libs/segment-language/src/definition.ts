import type { Condition, EvaluationContext } from './ast';
import { computedRead, consentsRead, eventsRead, hasWindow, nextChangeAt, segmentsRead, topLevelTrait, traitsRead } from './evaluate';
import { compilePredicate } from './compile';
import { parseSegment, printSegment } from './text';
import { formatIssues, validateDefinition, type ValidationIssue } from './validate';

/** A definition as the API accepts it: the JSON AST or its text form. */
export type DefinitionInput = unknown;

export type ReadResult =
  | { ok: true; definition: Condition; text: string }
  | { ok: false; message: string; offset?: number; issues?: ValidationIssue[] };

/** Reads a definition given as text or as JSON AST; the AST and canonical text, or a clear error. */
export function readDefinition(input: DefinitionInput): ReadResult {
  if (typeof input === 'string') {
    const parsed = parseSegment(input);
    if (!parsed.ok) return { ok: false, message: parsed.error.message, offset: parsed.error.offset };
    return { ok: true, definition: parsed.definition, text: printSegment(parsed.definition) };
  }
  const checked = validateDefinition(input);
  if (!checked.ok) return { ok: false, message: formatIssues(checked.issues), issues: checked.issues };
  return { ok: true, definition: checked.definition, text: printSegment(checked.definition) };
}

/** A definition ready for the hot path: its compiled predicate and what it depends on (the dependency index). */
export interface CompiledDefinition {
  readonly definition: Condition;
  readonly traits: ReadonlySet<string>;
  /** Computed trait names read (no change names them, so any change of the profile may move these). */
  readonly computed: ReadonlySet<string>;
  readonly events: ReadonlySet<string>;
  readonly segments: ReadonlySet<string>;
  /** Consent categories read (through the `consent` trait, which is in `traits`). */
  readonly consents: ReadonlySet<string>;
  /** Whether time alone can change the result (a windowed event condition). */
  readonly windowed: boolean;
  matches(context: EvaluationContext): boolean;
  /** See nextChangeAt. */
  nextChangeAt(context: EvaluationContext): number | null;
  /** True when a change of these trait keys can change the result. */
  readsAny(changedTraits: readonly string[]): boolean;
}

export function compileDefinition(definition: Condition): CompiledDefinition {
  // A path (`address.city`) changes when its top-level trait does.
  const traits = new Set(traitsRead(definition).flatMap((k) => [k, topLevelTrait(k)]));
  const matches = compilePredicate(definition);
  return {
    definition,
    traits,
    computed: new Set(computedRead(definition)),
    events: new Set(eventsRead(definition)),
    segments: new Set(segmentsRead(definition)),
    consents: new Set(consentsRead(definition)),
    windowed: hasWindow(definition),
    matches,
    nextChangeAt: (context) => nextChangeAt(definition, context),
    readsAny: (changed) => changed.some((k) => traits.has(k)),
  };
}
