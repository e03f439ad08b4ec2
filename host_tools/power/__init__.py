"""The battery's end on the phone's side: what the glasses said before they turned off."""
