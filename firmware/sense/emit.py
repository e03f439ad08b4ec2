# Events to the phone from the wear and battery logic: a failure to queue one is logged,
# never raised, so the state change that caused it still happens.


def safe_emit(emit, log, kind, payload):
    if emit is None:
        return
    try:
        emit(kind, payload)
    except Exception as e:  # the events channel is not worth a lost state change
        if log is not None:
            log.warn("event %s not emitted: %s", kind, e)
