"""The picture of the screen (`core.picture`): drawn once per revision, or off the event loop
for large data, with the landscape's calculator and the zoom window kept between steps."""
from __future__ import annotations

from ..core.picture import PathMemo, landscape_calculator, picture
from .budget import PICTURE_POINTS, data_points


class Drawing:
    """What the plots of `state` draw: `picture()` of the current state, its `calculator` (the
    landscape's, for the model, family and grid on screen), the zoom `window` the last picture
    chose (the next one moves from it) and the landscape path's memo."""

    def __init__(self, state):
        self.state = state
        self.calculator = None
        self.window = None
        self.drawn = None
        self.memo = PathMemo()

    def new_calculator(self):
        state = self.state
        self.calculator = landscape_calculator(state.model, state.family_object, state.grid_size)

    def forget(self):
        """The screen changed: the next `picture()` is drawn again."""
        self.drawn = None

    def forget_window(self):
        """The next picture chooses its zoom afresh (the settings or the analyses changed)."""
        self.window = None

    @property
    def fresh(self) -> bool:
        """Whether the next picture chooses its window afresh: a new screen (a link, a lesson's
        step, new view settings), on which every plot's axes are chosen anew instead of kept
        from the step before (a step reached by Next, by Back and by its link looks the same)."""
        return self.window is None

    def picture(self):
        """The picture of the current state (computed once per revision)."""
        if self.drawn is None:
            self.keep(self.job()())
        return self.drawn

    def job(self):
        """The computation of the current state's picture, with what it reads taken now, so it
        can run off the event loop while the session goes on (`keep` takes its result)."""
        state = self.state
        session, coordinate, calculator, zoom = state.session, state.coordinate, self.calculator, state.zoom
        window, fixed, memo = self.window, state.analyses.fixed_points(), self.memo
        return lambda: picture(session, coordinate, calculator, zoom=zoom, previous_window=window,
                               fixed_points=fixed, memo=memo)

    def keep(self, drawn):
        self.drawn, self.window = drawn, drawn.window

    @property
    def heavy(self) -> bool:
        """Whether a picture takes long enough to be drawn off the event loop (its landscape
        is a grid of E steps over all the data)."""
        return data_points(self.state.model) > PICTURE_POINTS
