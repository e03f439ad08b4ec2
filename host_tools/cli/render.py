"""Values for people: what the CLI prints instead of Python's reprs (a notification's
reply as a sentence, a status cell's dict as `key value` lines)."""

REPLY_WORDS = {
    "accepted": "the glasses took it",
    "cut": "the glasses took it, cut to fit",
    "duplicate": "the glasses had it already (same id)",
    "dropped": "the glasses dropped it",
    "rejected": "the glasses refused it",
}


def reply(r):
    """A notification's reply (a host_tools.notify.client.Reply, its dict, or whatever a
    notify plugin returned) as one line."""
    if r is None:
        return "queued"
    outcome = getattr(r, "outcome", None)
    detail = getattr(r, "detail", None)
    cuts = getattr(r, "cuts", None)
    if isinstance(r, dict):
        outcome = r.get("outcome", outcome)
        detail = r.get("detail", detail)
        cuts = r.get("cuts", cuts)
        if outcome is None:
            return cell(r, sep=", ")
    if outcome is None:
        return str(r)
    text = REPLY_WORDS.get(outcome, outcome)
    if detail:
        text += ": %s" % (detail,)
    if cuts:
        text += " (the phone cut %s)" % ", ".join(str(c) for c in cuts)
    return text


def cell(v, sep="\n", depth=0):
    """A status value: a dict as `key value` lines (nested ones indented), a list
    comma-separated, True/False as yes/no, None as a dash."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return ("%.1f" % v).rstrip("0").rstrip(".")
    if isinstance(v, dict):
        if not v:
            return "-"
        lines = []
        for k in v:
            x = v[k]
            if isinstance(x, dict) and depth < 1:
                lines.append("%s:" % k + sep + sep.join(
                    "  " + line for line in cell(x, "\n", depth + 1).split("\n")))
            else:
                lines.append("%s %s" % (k, cell(x, ", ", depth + 1)))
        return sep.join(lines)
    if isinstance(v, (list, tuple)):
        return ", ".join(cell(x, ", ", depth + 1) for x in v) or "-"
    return str(v)
