"""A CSV (or .npy) upload that checks the file's size in the page, before it is sent.

A file travels to the server in one websocket message. One over the server's message limit
would close the session's connection without a word, so the page refuses a file over the
upload limit (a server option: `--args --max-upload-mb N`, below the websocket's message limit)
and says why, and only a file within it is read and sent. The page also refuses a file that is
not UTF-8 text, instead of sending it with its bytes replaced.
"""
from __future__ import annotations

import param
from panel.custom import JSComponent


class CsvUpload(JSComponent):
    """A file chooser for CSV files. `uploads` counts the files sent (`filename`, `content`);
    `refusals` counts the files refused in the page (`refused` says why)."""

    limit = param.Integer(default=10 * 2**20, doc="The largest file sent, in bytes.")
    filename = param.String(default="")
    content = param.String(default="", doc="The file's text, or for a .npy file its bytes in base64.")
    uploads = param.Integer(default=0)
    refused = param.String(default="")
    refusals = param.Integer(default=0)

    _esm = """
    export function render({ model, el }) {
      const input = document.createElement("input");
      input.type = "file";
      input.accept = ".csv,.npy,text/csv,text/plain";
      input.style.width = "100%";
      const note = document.createElement("div");
      note.style.fontSize = "0.85em";
      note.style.color = "#555";
      const mb = (bytes) => (bytes / 1048576).toFixed(1) + " MB";
      const say = (text, error) => { note.textContent = text; note.style.color = error ? "#b00020" : "#555"; };
      say("CSV or .npy, up to " + mb(model.limit), false);
      const refuse = (text) => {
        say(text, true);
        model.refused = text;
        model.refusals = model.refusals + 1;
      };
      input.addEventListener("change", async () => {
        const file = input.files[0];
        input.value = "";                       // the same file chosen again is read again
        if (!file) return;
        if (file.size > model.limit) {
          refuse(file.name + ": " + mb(file.size) + " is over the " + mb(model.limit) +
                 " limit for uploads on this server");
          return;
        }
        let text;
        const bytes = new Uint8Array(await file.arrayBuffer());
        if (file.name.toLowerCase().endsWith(".npy")) {      // an array, as the CLI reads it: sent as base64
          let binary = "";
          for (let i = 0; i < bytes.length; i += 32768)
            binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 32768));
          text = btoa(binary);
        } else {
          try {
            text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
          } catch (error) {
            refuse(file.name + ": not a text CSV file (it is not UTF-8; a .npy array needs its .npy name)");
            return;
          }
        }
        say(file.name + " (" + mb(file.size) + ") sent", false);
        model.filename = file.name;
        model.content = text;
        model.uploads = model.uploads + 1;
      });
      el.append(input, note);
    }
    """
