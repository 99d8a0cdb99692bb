"""Carrying out the plan: surveys (排查), the plan per estate (一区一策), meetings, visits, progress and the briefing.

Submodules: ``records`` (the kinds of record, their fields and value parsing),
``validation`` (checking new records), ``workflow`` (measures from a survey,
due dates, status steps), ``attachments`` (evidence files), ``progress``
(per estate, batch and community), ``repository`` (records in the store, with
the audit trail) and ``briefing`` (the leading group's Word and Excel briefing).
"""
