"""SMS for citizens who called (and any case whose citizen asked): the case number and time limit on
acceptance, the reply on resolution, and the rating answered by replying 1, 2 or 3."""
