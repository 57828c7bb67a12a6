"""The user's own files: a data file uploaded, and a model file saved again (reload on save)."""
from __future__ import annotations

from ..core.model import Model
from ..screen import count_steps, decode_steps
from .sources import UPLOADED


def reload(state, model) -> bool:
    """The same screen rebuilt on `model` (a class, or an instance bound to its data, after its
    file was saved): the settings and the steps taken, as the link keeps them. If it cannot be
    built, or a step taken again raises, or its picture cannot be drawn, the last working model
    stays, and `state.message` shows why with the user's own frames."""
    query = state.links.query()
    code = query.pop("steps", "")
    steps, at = decode_steps(code, count_steps(code)), query.pop("at", None)      # the user's own steps
    query.pop("model", None)
    if model.name != state.model_name:     # another model (the page fell back to linkage): its own screen
        query, steps, at = {}, [], None
    sources = state.sources
    models, custom = dict(sources.models), sources.custom
    previous = (state.model, state.session, state.drawing.calculator, state.model_name)
    try:
        if isinstance(model, Model):
            sources.custom = model
            sources.models = {model.name: type(model)}
        else:
            sources.models = {**{k: v for k, v in models.items() if v is not type(state.model)}, model.name: model}
        state.param.model_name.objects = list(sources.models)
        with state.quiet():
            state.model_name = model.name
        state.build({"model_name": model.name}, first=True)
        state.links.apply({**query, "model": model.name})
        for kind in steps:           # not through the link: a step that raises keeps the old model
            state.session.e_step() if kind == "E" else state.session.m_step()
        if at is not None:
            state.session.go_to(int(at))
        drawn = state.drawing.job()()      # a picture that cannot be drawn keeps the old model too
    except Exception as exc:  # noqa: BLE001 - a broken save must not take the page down
        sources.models, sources.custom = models, custom
        state.param.model_name.objects = list(models)
        with state.quiet():
            state.model_name = previous[3]
        state.model, state.session, state.drawing.calculator = previous[:3]
        state.report(exc, "The saved model could not be used (the last working version stays)")
        state.touch()
        return False
    state.notes = state.notes_without("Reloaded") + [
        f"Reloaded {model.name} from its file; the {len(steps)} steps were taken again."]
    state.message = state.details = ""      # the error of an earlier broken save is over
    state.touch()
    state.drawing.keep(drawn)              # the redraw, at the end of one_change, shows it
    return True


def upload(state, filename: str, content: bytes | None) -> bool:
    """A user's CSV or .npy file (as the CLI's --data-file reads it): parsed and checked against
    the model before it replaces the data (off the event loop when served)."""
    sources = state.sources
    cls, values, name = sources.models[state.model_name], state.values(), filename or "the upload"

    def use(parsed):
        previous, sources.uploaded = sources.uploaded, (filename, *parsed)
        try:
            state.build({"dataset": UPLOADED})
        except Exception:
            sources.uploaded = previous
            raise
        state.notes = state.notes_without("Uploaded") + [f"Uploaded {filename}: {len(parsed[1])} rows."]
        return True
    return bool(state.job("Reading the upload", lambda tick: sources.read_upload(cls, values, name, content),
                          use, "The upload was not used (the session is unchanged)"))
