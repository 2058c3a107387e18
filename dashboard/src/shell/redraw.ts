// At most one redraw per animation frame, however many live frames arrive in between: the
// server coalesces per socket, this coalesces per view.

export interface RedrawScheduler {
  /** asks for a redraw before the next paint (no-op when one is already pending) */
  request(): void;
  /** drops a pending redraw (the view was hidden) */
  cancel(): void;
}

export function createRedrawScheduler(
  draw: () => void,
  requestFrame: (callback: () => void) => number = (cb) => requestAnimationFrame(cb),
  cancelFrame: (handle: number) => void = (handle) => cancelAnimationFrame(handle),
): RedrawScheduler {
  let pending: number | null = null;
  return {
    request() {
      if (pending !== null) return;
      pending = requestFrame(() => {
        pending = null;
        draw();
      });
    },
    cancel() {
      if (pending !== null) cancelFrame(pending);
      pending = null;
    },
  };
}
