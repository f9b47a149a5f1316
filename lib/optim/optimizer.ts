// SPDX-License-Identifier: MIT
// Optimizer: the base class holding the parameter groups (PyTorch's param_groups) and resolving each group's options.
import { checkInstance, checkOptions, describe, isOptionsObject } from '../check';
import { Parameter } from '../modules/parameter';
import { native } from '../native';

/** The options every optimizer takes: at least a learning rate. */
export interface BaseOptions {
  lr: number;
}

/** A parameter group as given to a constructor: its parameters and any options that differ from the defaults. */
export type ParamGroupInput<O> = { params: Iterable<Parameter> } & Partial<O>;

/**
 * A parameter group as the optimizer holds it (PyTorch's param_groups[i]): its parameters and every option resolved.
 * Only `lr` may change (schedules write it); the rest is fixed at construction.
 */
export type ParamGroup<O extends BaseOptions> = Readonly<Omit<O, 'lr'>> & {
  lr: number;
  readonly params: readonly Parameter[];
};

/** How a subclass checks its options: the keys it knows, and a function that applies defaults and checks values. */
export interface OptionsSpec<O extends BaseOptions> {
  keys: readonly (keyof O & string)[];
  /** Checks `o` and fills defaults; `what` prefixes messages ("SGD", or "SGD: paramGroups[1]"). */
  resolve(what: string, o: Partial<O>): O;
}

/**
 * Base class of optimizers: owns the parameter groups; subclasses implement step(). `params` is either Parameters
 * (one group with the constructor's options) or groups `{ params, ...options }` whose options override the
 * constructor's (the defaults), as in torch.optim.
 */
export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  /** Every parameter, group after group: the index stateOf() and checkpoints use (PyTorch's state_dict order). */
  readonly params: readonly Parameter[];
  /** The groups, each with its parameters and resolved options; schedules set each group's `lr`. */
  readonly paramGroups: readonly ParamGroup<O>[];
  /** The constructor's options with defaults applied (PyTorch's defaults): what a group does not override. */
  readonly defaults: Readonly<O>;
  /** groupOf[i]: the group holding params[i]. */
  private readonly groupOf: readonly ParamGroup<O>[];

  constructor(
    name: string,
    params: Iterable<Parameter> | Iterable<ParamGroupInput<O>>,
    options: Partial<O> | undefined,
    spec: OptionsSpec<O>,
  ) {
    this.defaults = Object.freeze(spec.resolve(name, checkOptions(name, options, spec.keys)));
    this.paramGroups = groupsOf<O>(name, params, spec.keys).map(([list, overrides], g) => {
      const what = `${name}: paramGroups[${g}]`;
      return makeGroup(list, spec.resolve(what, { ...this.defaults, ...overrides }));
    });
    const seen = new Map<Parameter, number>();
    this.paramGroups.forEach((group, g) =>
      group.params.forEach((p, i) => {
        const other = seen.get(p);
        if (other === undefined) return void seen.set(p, g);
        if (this.paramGroups.length === 1) throw new RangeError(`${name}: params holds the same Parameter twice`);
        throw new RangeError(
          `${name}: paramGroups[${g}].params[${i}] is already in paramGroups[${other}]; a Parameter may be in one group only`,
        );
      }),
    );
    this.groupOf = this.paramGroups.flatMap((group) => group.params.map(() => group));
    this.params = this.paramGroups.flatMap((group) => group.params);
  }

  /**
   * The learning rate of the only group. With several groups it reads the first group's; setting it is refused (set
   * each `paramGroups[i].lr`, or use a schedule, which scales every group).
   */
  get lr(): number {
    return this.paramGroups[0].lr;
  }

  set lr(value: number) {
    if (this.paramGroups.length > 1)
      throw new RangeError(
        `${this.constructor.name}: lr is per group with ${this.paramGroups.length} groups; set paramGroups[i].lr`,
      );
    this.paramGroups[0].lr = value;
  }

  abstract step(): void;

  /** Sets every parameter's gradient to zero; also marks a training step for the 'auto' thread count (each step
   * starts here, so its trials can time whole steps: docs/threads.md). */
  zeroGrad(): void {
    native.markStep();
    for (const p of this.params) p.zeroGrad();
  }

  /** Calls `fn` for every parameter with its group's options and its index in `params`, group after group. */
  protected forEachParam(fn: (p: Parameter, group: ParamGroup<O>, index: number) => void): void {
    this.params.forEach((p, i) => fn(p, this.groupOf[i], i));
  }
}

/**
 * `params` as [parameters, option overrides] per group (keys checked against `keys`); a flat list of Parameters is one
 * group without overrides.
 */
function groupsOf<O>(name: string, params: unknown, keys: readonly string[]): [Parameter[], Partial<O>][] {
  if (params === null || typeof (params as Partial<Iterable<unknown>>)?.[Symbol.iterator] !== 'function')
    throw new TypeError(
      `${name}: params must be an iterable of Parameters (model.parameters()) or of groups { params, ...options }, got ${describe(params)}`,
    );
  const list = [...(params as Iterable<unknown>)];
  if (list.length === 0) throw new RangeError(`${name}: params is empty`);
  if (!isGroup(list[0])) return [[parameterList(`${name}: params`, list), {}]];
  return list.map((group, g) => {
    const what = `${name}: paramGroups[${g}]`;
    if (!isOptionsObject(group) || group instanceof Parameter)
      throw new TypeError(`${what} must be a group { params, ...options } like paramGroups[0], got ${describe(group)}`);
    const { params: groupParams, ...overrides } = checkOptions(what, group, ['params', ...keys]);
    if (groupParams === null || typeof (groupParams as Partial<Iterable<unknown>>)?.[Symbol.iterator] !== 'function')
      throw new TypeError(`${what}.params must be an iterable of Parameters, got ${describe(groupParams)}`);
    const members = [...(groupParams as Iterable<unknown>)];
    if (members.length === 0) throw new RangeError(`${what}.params is empty`);
    return [parameterList(`${what}.params`, members), overrides as Partial<O>];
  });
}

/** A group `{ params, ...options }` (PyTorch tells groups by their being dicts). */
function isGroup(value: unknown): boolean {
  return isOptionsObject(value) && !(value instanceof Parameter) && 'params' in value;
}

function parameterList(what: string, list: unknown[]): Parameter[] {
  return list.map((p, i) => checkInstance(`${what}[${i}]`, p, Parameter));
}

/** The group object: `lr` writable, every other field read-only (arrays frozen), no fields added later. */
function makeGroup<O extends BaseOptions>(params: Parameter[], options: O): ParamGroup<O> {
  const group: Record<string, unknown> = { params: Object.freeze(params) };
  for (const [key, value] of Object.entries(options)) {
    const fixed = Array.isArray(value) ? Object.freeze([...value]) : value;
    Object.defineProperty(group, key, { value: fixed, enumerable: true, writable: key === 'lr' });
  }
  return Object.seal(group) as ParamGroup<O>;
}
