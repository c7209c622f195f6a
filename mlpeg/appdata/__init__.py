"""What the Streamlit app needs from the warehouse, without importing Streamlit.

The app (``streamlit_app/``) only draws; everything it shows comes from here:

* :mod:`mlpeg.appdata.params`: the user's choices (weights, thresholds, element filter,
  history) as one hashable value, passed to the views with ``SET VARIABLE``;
* :mod:`mlpeg.appdata.store`: read-only connections, reopened when ingest publishes new
  data, with a result cache so repeated views of a page cost nothing;
* :mod:`mlpeg.appdata.queries`: one function per thing a page shows, each a ``SELECT``
  from the warehouse views (scoring never happens in Python);
* :mod:`mlpeg.appdata.sqlpage`: the SQL page's guarded, row- and time-limited queries;
* :mod:`mlpeg.appdata.structure_html`: a stored structure (and its frames) as 3Dmol.js HTML;
* :mod:`mlpeg.appdata.presets`: ML-PEG's category weight presets (the built-in profiles of
  :mod:`mlpeg.profiles`);
* :mod:`mlpeg.appdata.insights`: what the Speed, Element errors and Compare pages show, and
  the saved scoring profiles; :mod:`mlpeg.appdata.insight_figures` draws their figures;
* :mod:`mlpeg.appdata.periodic`: periodic-table positions for the element filter.
"""
