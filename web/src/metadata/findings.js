// What a file can reveal, as the kinds of detail the page names to the reporter
// (the words are in report.js's DEFAULT_MESSAGES, translated by the server).
export const CAMERA = "camera";
export const GPS = "gps";
export const AUTHOR = "author";
export const ORGANISATION = "organisation";
export const SOFTWARE = "software";
export const TIMES = "times";
export const COMMENTS = "comments";
export const TRACKED_CHANGES = "trackedChanges";
export const OTHER = "other";

// The order they are listed in: where and who first.
export const ORDER = [GPS, CAMERA, AUTHOR, ORGANISATION, SOFTWARE, TIMES, COMMENTS, TRACKED_CHANGES, OTHER];

export class CannotClean extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason; // "unknownFormat", "encrypted", "tooLarge" or "damaged"
  }
}

export const latin1 = (bytes) => {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
};
