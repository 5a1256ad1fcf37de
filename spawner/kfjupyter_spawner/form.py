"""The spawn options form: only what the user's groups allow, with live GPU capacity.

GPU counts above what the chosen GPU type has free now are disabled (in the page, as the type
changes); selects and radios carry JupyterHub's Bootstrap classes, so they look like the rest of
the spawn page.

Rendered with Jinja2 and autoescaping (every admin- or user-provided string is escaped). The form
posts flat fields (``profile``, and ``<profile>--<option>`` for each option), which
:func:`options_from_form` turns back into the flat options the REST API takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2

from kfjupyter_spawner.capacity import Capacity
from kfjupyter_spawner.profiles import Profile

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEMPLATE = _ENV.from_string(
    """
<style>
  .kfjupyter-profile-block { border: 1px solid var(--bs-border-color, #ddd); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
  .kfjupyter-profile-block:has(input[name=profile]:checked) { border-color: #f37524; }
  .kfjupyter-profile-block:not(:has(input[name=profile]:checked)) .kfjupyter-option { display: none; }
  .kfjupyter-option { margin: 6px 0 0 24px; display: flex; align-items: center; gap: 8px; }
  .kfjupyter-option select { width: auto; min-width: 14em; }
  .kfjupyter-description { color: var(--bs-secondary-color, #666); margin-left: 4px; }
</style>
<div class="kfjupyter-profiles">
{% for p in profiles %}
  {% set caps = capacity.get(p.slug, {}) %}
  <div class="kfjupyter-profile-block" data-profile="{{ p.slug }}">
    <label class="kfjupyter-profile form-check-label">
      <input class="form-check-input" type="radio" name="profile" value="{{ p.slug }}"{% if p.slug == selected %} checked{% endif %}>
      <strong>{{ p.display_name }}</strong>
      {% if p.description %}<span class="kfjupyter-description">{{ p.description }}</span>{% endif %}
    </label>
    {% for key, option in p.options.items() %}
    <div class="kfjupyter-option" data-profile="{{ p.slug }}" data-option="{{ key }}">
      <label for="{{ p.slug }}--{{ key }}">{{ option.display_name }}</label>
      <select class="form-select form-select-sm" id="{{ p.slug }}--{{ key }}" name="{{ p.slug }}--{{ key }}">
      {% for c in option.choices %}
        {% set cap = caps.get(c.value|string) if key == "gpu_type" else none %}
        {% set too_many = key == "gpu_count" and free[p.slug] is not none and c.value > free[p.slug] and c.value != smallest[p.slug] %}
        <option value="{{ c.value }}"{% if cap %} data-free="{{ cap.free }}"{% endif %}{% if key == "gpu_count" %} data-count="{{ c.value }}"{% endif %}{% if selected_count(p, c, key) %} selected{% endif %}{% if too_many %} disabled{% endif %}>{{ c.label }}{% if cap %} ({{ cap.describe() }}){% endif %}</option>
      {% endfor %}
      </select>
    </div>
    {% endfor %}
  </div>
{% endfor %}
</div>
<script>
/* GPU counts above what the chosen GPU type has free now are disabled (the smallest count stays:
   a spawn then says plainly that none is free). */
document.querySelectorAll(".kfjupyter-profile-block").forEach(function (block) {
  var type = block.querySelector("select[name$='--gpu_type']");
  var count = block.querySelector("select[name$='--gpu_count']");
  if (!type || !count) { return; }
  type.addEventListener("change", function () {
    var chosen = type.options[type.selectedIndex];
    var free = chosen && chosen.dataset.free !== undefined ? Number(chosen.dataset.free) : Infinity;
    var options = Array.prototype.slice.call(count.options);
    var smallest = Math.min.apply(null, options.map(function (o) { return Number(o.dataset.count); }));
    options.forEach(function (o) { o.disabled = Number(o.dataset.count) > free && Number(o.dataset.count) !== smallest; });
    if (count.options[count.selectedIndex].disabled) {
      var allowed = options.filter(function (o) { return !o.disabled; });
      count.value = allowed[allowed.length - 1].value;
    }
  });
});
</script>
"""
)


def _free_now(profile: Profile, caps: Mapping[str, Capacity]) -> int | None:
    """GPUs free now of the GPU type the form starts with; None when not known."""
    if profile.gpu is None:
        return None
    start = profile.gpu.default_type
    option = profile.options.get("gpu_type")
    if option is not None:
        start = next((str(c.value) for c in option.choices if c.default), str(option.choices[0].value))
    cap = caps.get(str(start)) if start is not None else None
    return cap.free if cap is not None else None


def render_form(
    profiles: list[Profile], capacity: Mapping[str, Mapping[str, Capacity]], selected: str | None = None
) -> str:
    """HTML of the options form; ``capacity`` maps profile slug -> GPU type -> capacity."""
    if selected is None:
        defaults = [p.slug for p in profiles if p.default]
        selected = defaults[0] if defaults else (profiles[0].slug if profiles else None)
    free = {p.slug: _free_now(p, capacity.get(p.slug, {})) for p in profiles}
    counts = {
        p.slug: [int(c.value) for c in p.options["gpu_count"].choices]
        for p in profiles
        if "gpu_count" in p.options
    }
    smallest = {p.slug: min(counts[p.slug]) if p.slug in counts else None for p in profiles}

    def selected_count(profile: Profile, choice: Any, key: str) -> bool:
        """The choice selected at first: the default, unless it is more GPUs than are free."""
        if key != "gpu_count" or free[profile.slug] is None:
            return bool(choice.default)
        options = counts[profile.slug]
        fitting = [n for n in options if n <= (free[profile.slug] or 0)] or [min(options)]
        default = next((int(c.value) for c in profile.options[key].choices if c.default), fitting[0])
        return int(choice.value) == (default if default in fitting else max(fitting))

    return _TEMPLATE.render(
        profiles=profiles,
        capacity=capacity,
        selected=selected,
        free=free,
        smallest=smallest,
        selected_count=selected_count,
    )


def options_from_form(formdata: Mapping[str, list[str]]) -> dict[str, str]:
    """Flat options from the posted form: the chosen profile and that profile's fields only."""
    profile = (formdata.get("profile") or [""])[0]
    options = {"profile": profile} if profile else {}
    prefix = f"{profile}--"
    for name, values in formdata.items():
        if name.startswith(prefix) and values:
            options[name[len(prefix) :]] = values[0]
    return options
