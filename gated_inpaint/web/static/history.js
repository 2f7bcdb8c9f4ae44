// The undo/redo history. A state is {image, strokes}: the picture being edited (the photo, or
// the result of the last fill) and the strokes painted on it since. Painting a stroke, clearing
// and filling each add a state; undo and redo move between them; a new state after an undo
// drops the states that could have been redone.

export class History {
  constructor(first) {
    this.states = [first];
    this.index = 0;
  }

  get current() {
    return this.states[this.index];
  }

  get canUndo() {
    return this.index > 0;
  }

  get canRedo() {
    return this.index < this.states.length - 1;
  }

  push(state) {
    this.states.splice(this.index + 1, Infinity, state);
    this.index += 1;
  }

  undo() {
    if (this.canUndo) this.index -= 1;
    return this.current;
  }

  redo() {
    if (this.canRedo) this.index += 1;
    return this.current;
  }
}
