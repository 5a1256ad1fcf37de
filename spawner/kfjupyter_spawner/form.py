"""The spawn options form: only what the user's groups allow, with live GPU capacity.

Rendered with Jinja2 and autoescaping (every admin- or user-provided string is escaped). The form
posts flat fields (``profile``, and ``<profile>--<option>`` for each option), which
:func:`options_from_form` turns back into the flat options the REST API takes.
"""

from __future__ import annotations

from collections.abc import Mapping

import jinja2

from kfjupyter_spawner.capacity import Capacity
from kfjupyter_spawner.profiles import Profile

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEMPLATE = _ENV.from_string(
    """
<style>
  .kfjupyter-profile-block { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
  .kfjupyter-profile-block:has(input[name=profile]:checked) { border-color: #f37524; }
  .kfjupyter-profile-block:not(:has(input[name=profile]:checked)) .kfjupyter-option { display: none; }
  .kfjupyter-option { margin: 6px 0 0 24px; }
  .kfjupyter-description { color: #666; margin-left: 4px; }
</style>
<div class="kfjupyter-profiles">
{% for p in profiles %}
  <div class="kfjupyter-profile-block" data-profile="{{ p.slug }}">
    <label class="kfjupyter-profile">
      <input type="radio" name="profile" value="{{ p.slug }}"{% if p.slug == selected %} checked{% endif %}>
      <strong>{{ p.display_name }}</strong>
      {% if p.description %}<span class="kfjupyter-description">{{ p.description }}</span>{% endif %}
    </label>
    {% for key, option in p.options.items() %}
    <div class="kfjupyter-option" data-profile="{{ p.slug }}" data-option="{{ key }}">
      <label for="{{ p.slug }}--{{ key }}">{{ option.display_name }}</label>
      <select id="{{ p.slug }}--{{ key }}" name="{{ p.slug }}--{{ key }}">
      {% for c in option.choices %}
        <option value="{{ c.value }}"{% if c.default %} selected{% endif %}>{{ c.label }}{% if key == "gpu_type" and capacity.get(p.slug, {}).get(c.value|string) %} ({{ capacity[p.slug][c.value|string].describe() }}){% endif %}</option>
      {% endfor %}
      </select>
    </div>
    {% endfor %}
  </div>
{% endfor %}
</div>
"""
)


def render_form(
    profiles: list[Profile], capacity: Mapping[str, Mapping[str, Capacity]], selected: str | None = None
) -> str:
    """HTML of the options form; ``capacity`` maps profile slug -> GPU type -> capacity."""
    if selected is None:
        defaults = [p.slug for p in profiles if p.default]
        selected = defaults[0] if defaults else (profiles[0].slug if profiles else None)
    return _TEMPLATE.render(profiles=profiles, capacity=capacity, selected=selected)


def options_from_form(formdata: Mapping[str, list[str]]) -> dict[str, str]:
    """Flat options from the posted form: the chosen profile and that profile's fields only."""
    profile = (formdata.get("profile") or [""])[0]
    options = {"profile": profile} if profile else {}
    prefix = f"{profile}--"
    for name, values in formdata.items():
        if name.startswith(prefix) and values:
            options[name[len(prefix) :]] = values[0]
    return options
