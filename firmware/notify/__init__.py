# Notifications for glasses without a screen: the model and its validation (shared with the
# host), the notification centre, the presentation vocabulary, gesture actions, and the
# service that ties them to the host link.
