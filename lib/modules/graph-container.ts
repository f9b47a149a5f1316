// SPDX-License-Identifier: MIT
// ModuleDict: a container that only names modules (torch.nn.ModuleDict), so a Graph can hold a module at a dotted path
// ("layers.0.conv1") and its state-dict names match PyTorch's; the Graph runs the modules, not the container.
import { Tensor } from '../tensor/tensor';
import { Module } from './module';

/**
 * Holds named child modules without running them: a node of a Graph at path "a.b" sits in a ModuleDict "a". Calling
 * it is an error, as calling torch.nn.ModuleDict is.
 */
export class ModuleDict extends Module {
  /** Adds `module` as child `name` (no '.'), or returns the child already there. */
  set<M extends Module>(name: string, module: M): M {
    return this.registerModule(name, module);
  }

  /** The child named `name`, or undefined. */
  get(name: string): Module | undefined {
    return this.namedChildren().find(([n]) => n === name)?.[1];
  }

  outputShape(): number[] {
    throw new TypeError('ModuleDict holds modules for a Graph and has no forward of its own');
  }

  override forwardWith(): Tensor {
    throw new TypeError('ModuleDict holds modules for a Graph and has no forward of its own');
  }

  override backwardWith(): Tensor | null {
    throw new TypeError('ModuleDict holds modules for a Graph and has no backward of its own');
  }
}
