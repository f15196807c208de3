"""Writes cases.in.json: small templates exercising the jinja2 features chat
templates use, with their variables. gen.py renders them with jinja2."""
import json

MSGS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi <there> & 'you'"},
    {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nHello!", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": {"x": 1, "y": [1, 2.5, None, True], "z": "é\"\n"}}}]},
    {"role": "tool", "content": "{\"ok\": true}"},
]
V = {"messages": MSGS, "n": 7, "f": 2.5, "s": "  Hello World  ", "u": "héllo wörld ☃ 😀",
     "l": [3, 1, 2], "d": {"b": 1, "a": 2, "C": 3}, "e": [], "none": None, "t": True,
     "words": ["apple", "Banana", "cherry"], "nested": {"a": {"b": [10, 20, {"c": "deep"}]}},
     "people": [{"name": "Ann", "age": 31, "team": "x"}, {"name": "bob", "age": 25, "team": "y"}, {"name": "Cy", "age": 31, "team": "x"}],
     "big": 12345678901234, "neg": -7, "fl": [0.1, 1e-05, 1e16, 123456789.0, -0.0, 3.0, 2.675]}

cases = []
def c(name, template, vars=V):
    cases.append({"name": name, "template": template, "vars": vars})

# whitespace control and trim/lstrip
c("ws_trim", "{% if t %}\nyes\n{% endif %}\nend\n")
c("ws_lstrip", "a\n    {% if t %}\n    b\n    {% endif %}\nc")
c("ws_lstrip_tabs", "x\n\t \t{% for i in l %}\n\t{{ i }}\n\t{% endfor %}\ny")
c("ws_minus", "a   {%- if t -%}   b   {%- endif -%}   c")
c("ws_var_minus", "a \n {{- n -}} \n b")
c("ws_plus", "a\n    {%+ if t %}b{% endif +%}\nc")
c("ws_comment", "a\n  {# comment #}\nb {#- x -#} c\n{#- y #}\nd")
c("ws_raw", "{% raw %}{{ not evaluated }}{% endraw %}|{%- raw -%}  {{x}}  {%- endraw -%}|")
c("ws_trailing_newline", "abc\n")
c("ws_two_trailing_newlines", "abc\n\n")
c("ws_crlf", "a\r\n{% if t %}\r\nb\r\n{% endif %}\r\nc")
c("ws_var_no_trim", "{{ n }}\n{{ n }}\n")
c("ws_inline_block", "x {% if t %}y{% endif %} z\n  {% set q = 1 %}  w")
c("ws_lstrip_not_at_line_start", "ab  {% if t %}c{% endif %}")
c("ws_comment_lstrip_minus", "line1\n    {#- c #}\nline2")

# literals and operators
c("lit_strings", """{{ 'a' "b" 'c' }}|{{ "it's" }}|{{ 'tab\\there' }}|{{ '\\u00e9\\x41\\101\\n' }}|{{ 'back\\\\slash' }}|{{ 'unknown\\d' }}""")
c("lit_numbers", "{{ 1_000 }} {{ 1.5 }} {{ 1e3 }} {{ 2.5e-3 }} {{ 0.1 + 0.2 }} {{ 10 / 4 }} {{ 10 // 4 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2 ** 3 ** 2 }}")
c("lit_floats", "{% for x in fl %}{{ x }} {% endfor %}{{ 1.0 }} {{ 100.0 / 3 }} {{ 1e22 }} {{ 1.5e-7 }}")
c("lit_collections", "{{ [1, 'a', none, true] }} {{ (1,) }} {{ (1, 2) }} {{ () }} {{ {'k': [1, {'z': 'q'}], 2: 'two'} }} {{ d }}")
c("lit_repr_quotes", """{{ ["it's", 'say "hi"', 'both \\' "', 'nl\\n'] }}""")
c("ops_concat", "{{ 'a' ~ 1 ~ none ~ true ~ undefined_thing ~ [1] }}")
c("ops_plus_lists", "{{ [1, 2] + [3] }} {{ 'ab' * 3 }} {{ 2 * 'xy' }} {{ [0] * 3 }} {{ l * 0 }}")
c("ops_compare", "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ none == none }} {{ 'a' != 'a' }} {{ 2 >= 2 }} {{ 1 <= 0 }}")
c("ops_in", "{{ 'ell' in 'hello' }} {{ 2 in l }} {{ 'a' in d }} {{ 'z' not in d }} {{ 5 not in l }} {{ 'x' in undefined_var }}")
c("ops_logic", "{{ 0 or 'x' }} {{ 1 and 'y' }} {{ none or [] }} {{ '' and boom }} {{ not '' }} {{ not 0 == 1 }} {{ true and false or 'z' }}")
c("ops_ternary", "{{ 'a' if t else 'b' }}|{{ 'a' if none else 'b' }}|{{ 'a' if none }}|{{ 1 if false else 2 if true else 3 }}")
c("ops_unary", "{{ -n }} {{ +f }} {{ -(-3) }} {{ -(l|length) }} {{ -n|abs }}")
c("ops_unary_filter_error", "{{ -l|length }}")
c("ops_precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'a' ~ (1 + 2) }} {{ 2 * 3 ~ 4 }} {{ l|length + 1 }} {{ not t and t }} {{ 10 - 2 - 3 }} {{ (1 + 2) ~ 3 }}")
c("ops_concat_binds_tighter_error", "{{ 'a' ~ 1 + 2 }}")
c("ops_big", "{{ big * 1000 }} {{ big // 7 }} {{ big % 97 }} {{ neg // 2 }} {{ neg % 4 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}")

# attribute and item access
c("access", "{{ nested.a.b[2].c }} {{ nested['a']['b'][0] }} {{ l[0] }} {{ l[-1] }} {{ l.1 }} {{ s[2] }} {{ u[1] }} {{ u[-1] }}")
c("access_missing", "[{{ d.nope }}][{{ l[10] }}][{{ d['zz'] }}][{{ none.x }}][{{ s.foo }}][{{ 5.x }}]")
c("access_methods_vs_keys", "{% set dd = {'items': 1, 'keys': 2, 'x': 3} %}{{ dd['items'] }} {{ dd.x }} {{ dd['keys'] }} {{ dd.get('x') }} {{ dd.get('q', 'dflt') }} {{ dd.get('q') }}")
c("slices", "{{ l[1:] }} {{ l[:-1] }} {{ l[::-1] }} {{ l[::2] }} {{ s[2:7] }} {{ s[::-1] }} {{ u[1:4] }} {{ u[::-2] }} {{ l[5:] }} {{ l[-100:2] }} {{ s[-3:] }} {{ l[3:0:-1] }}")
c("undefined_attr_error", "{{ nope.attr }}")
c("undefined_item_error", "{{ nope[0] }}")
c("undefined_add_error", "{{ nope + 1 }}")
c("undefined_call_error", "{{ nope() }}")
c("undefined_chain_error", "{{ d.missing.deeper }}")
c("undefined_ok", "[{{ nope }}][{{ nope|default('dft') }}][{{ nope is defined }}][{{ nope|length }}][{% for x in nope %}x{% endfor %}][{{ nope ~ 'a' }}][{{ nope == nope2 }}][{{ not nope }}]")

# tests
c("tests_types", "{% for v in [1, 1.5, 'x', none, true, [1], {'a': 1}, nope] %}{{ v is number }}{{ v is integer }}{{ v is float }}{{ v is string }}{{ v is none }}{{ v is boolean }}{{ v is sequence }}{{ v is mapping }}{{ v is iterable }}{{ v is defined }}{{ v is callable }}|{% endfor %}")
c("tests_values", "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'aB' is lower }}")
c("tests_compare", "{{ 1 is eq 1 }} {{ 2 is equalto 3 }} {{ 'a' is ne 'b' }} {{ 2 is lt 3 }} {{ 3 is gt 3 }} {{ 3 is ge 3 }} {{ 2 is le 1 }} {{ 2 is in l }} {{ 'q' is in 'aqb' }} {{ 1 is sameas 1 }} {{ none is sameas none }} {{ l is sameas l }}")
c("tests_negate", "{{ none is not none }} {{ 'x' is not string }} {{ not nope is defined }} {{ n is not divisibleby 2 }}")
c("tests_filter_test", "{{ 'upper' is filter }} {{ 'nofilter' is filter }} {{ 'odd' is test }} {{ 'notest' is test }}")

# filters
c("f_string_basic", "{{ s|trim }}|{{ s|trim('  Hd') }}|{{ s|upper }}|{{ s|lower }}|{{ 'hello WORLD-foo bar(baz' |title }}|{{ 'hELLO wORLD'|capitalize }}|{{ u|upper }}|{{ s|length }}|{{ u|length }}")
c("f_replace", "{{ 'aaa'|replace('a', 'b') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }} {{ 5|replace('5', 'five') }}")
c("f_default", "{{ nope|default('a') }} {{ none|default('b') }} {{ ''|default('c') }} {{ ''|default('c', true) }} {{ 0|d('z', boolean=true) }} {{ nope|default }}|")
c("f_join", "{{ l|join }} {{ l|join(', ') }} {{ people|join('/', attribute='name') }} {{ [1, none, 'x']|join('-') }} {{ 'abc'|join('.') }}")
c("f_first_last", "{{ l|first }} {{ l|last }} {{ 'xyz'|first }} {{ 'xyz'|last }} [{{ e|first }}] {{ d|first }}")
c("f_length_count", "{{ l|length }} {{ d|count }} {{ 'ab'|length }} {{ e|length }}")
c("f_list", "{{ 'abc'|list }} {{ d|list }} {{ l|list }} {{ (1, 2)|list }}")
c("f_string_filter", "{{ l|string }} {{ d|string }} {{ none|string }} {{ true|string }} {{ 1.0|string }} {{ nested|string }}")
c("f_numbers", "{{ '42'|int }} {{ '4.9'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.99|int }} {{ '0x1A'|int(0, 16) }} {{ 'ff'|int(base=16) }} {{ '3.5'|float }} {{ 'q'|float }} {{ 2|float }} {{ -3|abs }} {{ -2.5|abs }} {{ true|int }} {{ ' 12 '|int }}")
c("f_round", "{{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 1.234|round(1, 'floor') }} {{ 1.234|round(1, 'ceil') }} {{ 7|round }} {{ -2.5|round }}")
c("f_tojson", "{{ nested|tojson }}|{{ d|tojson }}|{{ messages[2]|tojson }}|{{ u|tojson }}|{{ fl|tojson }}|{{ none|tojson }}|{{ 'a<b>&\\'c'|tojson }}")
c("f_tojson_indent", "{{ nested|tojson(indent=2) }}|{{ d|tojson(indent=4) }}|{{ e|tojson(indent=2) }}|{{ {}|tojson(indent=2) }}|{{ [[]]|tojson(indent=1) }}")
c("f_tojson_kwargs", "{{ d|tojson(sort_keys=true) }}|{{ u|tojson(ensure_ascii=true) }}|{{ d|tojson(separators=(',', ':')) }}|{{ {1: 'a', 2.5: none, true: 1, none: 2}|tojson }}")
c("f_tojson_undefined_error", "{{ nope|tojson }}")
c("f_items_dictsort", "{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %}|{% for k, v in d|dictsort %}{{ k }}={{ v }};{% endfor %}|{{ d|dictsort(true) }}|{{ d|dictsort(by='value', reverse=true) }}|{{ nope|items|list }}")
c("f_sort", "{{ l|sort }} {{ words|sort }} {{ words|sort(case_sensitive=true) }} {{ words|sort(reverse=true) }} {{ people|sort(attribute='age')|map(attribute='name')|list }} {{ people|sort(attribute='age,name')|map(attribute='name')|join }}")
c("f_map_select", "{{ people|map(attribute='name')|list }} {{ words|map('upper')|list }} {{ people|selectattr('age', 'equalto', 31)|map(attribute='name')|join(',') }} {{ people|rejectattr('team', 'eq', 'x')|list|length }} {{ l|select('odd')|list }} {{ l|reject('odd')|list }} {{ [0, 1, '', 'a', none]|select|list }} {{ people|selectattr('name')|list|length }} {{ l|map('string')|join('+') }} {{ people|map(attribute='missing', default='?')|join }}")
c("f_minmax_sum", "{{ l|min }} {{ l|max }} {{ words|min }} {{ words|max }} {{ words|max(case_sensitive=true) }} {{ people|max(attribute='age') }} {{ l|sum }} {{ people|sum(attribute='age') }} {{ fl|sum }} {{ l|sum(start=10) }} [{{ e|max }}]")
c("f_unique_reverse", "{{ [1, 2, 1, 3, 2]|unique|list }} {{ ['a', 'A', 'b']|unique|list }} {{ l|reverse|list }} {{ 'abc'|reverse }} {{ u|reverse }}")
c("f_batch_slice", "{{ [1,2,3,4,5]|batch(2)|list }} {{ [1,2,3,4,5]|batch(2, 'x')|list }} {{ [1,2,3,4,5]|slice(2)|list }} {{ [1,2,3,4,5]|slice(3, 0)|list }}")
c("f_indent", "[{{ 'a\\nb\\n\\nc'|indent }}][{{ 'a\\nb'|indent(2, true) }}][{{ 'a\\n\\nb'|indent(2, blank=true) }}][{{ 'x\\ny'|indent('> ') }}][{{ ''|indent }}]")
c("f_center_trunc_wc", "[{{ 'ab'|center(7) }}][{{ 'hello world foo bar'|truncate(11) }}][{{ 'hello world foo bar'|truncate(11, true) }}][{{ 'hello world foo bar'|truncate(9, leeway=0) }}][{{ 'one two, three'|wordcount }}][{{ 'short'|truncate(3, end='') }}]")
c("f_format", "{{ '%s-%d'|format('a', 3) }} {{ '%5.2f|%-4s|%04d'|format(3.14159, 'x', 7) }} {{ '%(a)s'|format(a=1) }} {{ '%x %o %e %g'|format(255, 8, 12345.678, 0.0001) }} {{ '%r'|format('q') }} {{ '100%%'|format() }}")
c("f_escape_safe", "{{ '<a href=\"x\">&\\''|e }} {{ '<b>'|safe }} {{ 5|safe }} {{ '<i>'|escape }}")
c("f_attr_groupby", "{{ d|attr('items') is callable }} {% for g in people|groupby('team') %}{{ g.grouper }}:{{ g.list|map(attribute='name')|join(',') }};{% endfor %}")
c("f_chained", "{{ messages|map(attribute='role')|unique|join(',')|upper }}|{{ messages|selectattr('tool_calls', 'defined')|list|length }}|{{ messages|rejectattr('content', 'none')|map(attribute='content')|map('length')|list }}")
c("f_striptags_urlencode", "{{ '<p>a  <b>b</b>\\n c</p>'|striptags }} {{ 'a b&c/d'|urlencode }}")

# str methods
c("m_strip", "[{{ s.strip() }}][{{ s.lstrip() }}][{{ s.rstrip() }}][{{ 'xxaxx'.strip('x') }}][{{ '\\n\\nA\\n'.lstrip('\\n') }}][{{ 'abcab'.rstrip('ba') }}][{{ '\\u00a0x\\u2003'.strip() }}]")
c("m_split", "{{ 'a,b,,c'.split(',') }} {{ '  a  b  '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' a b c '.rsplit(None, 1) }} {{ ''.split() }} {{ ''.split(',') }} {{ 'x</think>y</think>z'.split('</think>')[-1] }} {{ 'a\\nb\\r\\nc'.splitlines() }}")
c("m_case", "{{ 'hello world'.title() }} {{ \"they're bill's\".title() }} {{ 'ABC'.lower() }} {{ 'abc'.upper() }} {{ 'aBc'.swapcase() }} {{ 'hello'.capitalize() }}")
c("m_find", "{{ s.find('World') }} {{ s.find('zz') }} {{ u.find('w') }} {{ 'abcabc'.rfind('b') }} {{ 'abcabc'.index('c') }} {{ 'aaa'.count('a') }} {{ 'abcabc'.find('b', 2) }} {{ 'abc'.count('') }}")
c("m_startswith", "{{ s.strip().startswith('Hell') }} {{ 'abc'.endswith('bc') }} {{ 'abc'.startswith(('x', 'a')) }} {{ 'abc'.startswith('b', 1) }} {{ 'abc'.endswith('') }}")
c("m_replace_join", "{{ 'a-b-c'.replace('-', '+') }} {{ 'a-b-c'.replace('-', '', 1) }} {{ ', '.join(['x', 'y']) }} {{ ''.join(words) }}")
c("m_format", "{{ '{} and {}'.format(1, 'b') }} {{ '{0}{1}{0}'.format('x', 'y') }} {{ '{name}!'.format(name='z') }} {{ '{:>5}|{:<4}|{:^6}|{:.2f}|{:05d}|{!r}'.format('a', 'b', 'c', 3.14159, 42, 'q') }} {{ '{{}}{}'.format(1) }}")
c("m_misc", "{{ 'abc'.isalpha() }} {{ '123'.isdigit() }} {{ ' '.isspace() }} {{ 'ab'.islower() }} {{ 'a1'.isalnum() }} {{ '42'.zfill(5) }} {{ 'ab'.ljust(4, '*') }} {{ 'ab'.rjust(4) }} {{ 'ab'.center(5, '-') }} {{ 'a=b=c'.partition('=') }} {{ 'a=b=c'.rpartition('=') }} {{ 'prefix_x'.removeprefix('prefix_') }}")
c("m_list_dict", "{{ l.index(2) }} {{ l.count(3) }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {{ l.copy() }} {% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}")
c("m_append_unsafe", "{% set x = [1] %}{{ x.append(2) }}{{ x }}")
c("m_update_unsafe", "{% set x = {} %}{{ x.update({'a': 1}) }}")
c("m_str_plus_int_error", "{{ 'a' + 1 }}")
c("m_int_plus_str_error", "{{ 1 + 'a' }}")
c("m_lt_mixed_error", "{{ 1 < 'a' }}")
c("m_div_zero_error", "{{ 1 / 0 }}")
c("m_none_iter_error", "{% for x in none %}{% endfor %}")
c("m_int_iter_error", "{% for x in 5 %}{% endfor %}")
c("m_in_int_error", "{{ 1 in 5 }}")

# control flow and scoping
c("loop_vars", "{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}[{{ loop.previtem }}|{{ loop.nextitem }}]{{ loop.cycle('o', 'e') }}{{ loop.depth }};{% endfor %}")
c("loop_filter_else", "{% for x in l if x > 1 %}{{ x }}{{ loop.index }}{{ loop.length }},{% else %}none{% endfor %}|{% for x in e %}x{% else %}empty{% endfor %}|{% for x in l if x > 10 %}{% else %}filtered-empty{% endfor %}")
c("loop_unpack", "{% for a, b in [[1, 2], (3, 4)] %}{{ a }}{{ b }};{% endfor %}{% for k, v in d.items() %}{{ k }}:{{ v }},{% endfor %}{% for (a, b) in [(5, 6)] %}{{ a + b }}{% endfor %}")
c("loop_unpack_error", "{% for a, b in [[1, 2, 3]] %}{% endfor %}")
c("loop_break_continue", "{% for x in range(10) %}{% if x is odd %}{% continue %}{% endif %}{% if x > 6 %}{% break %}{% endif %}{{ x }}{% endfor %}")
c("loop_nested", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}|{% endfor %}")
c("loop_changed", "{% for p in people|sort(attribute='team') %}{% if loop.changed(p.team) %}[{{ p.team }}]{% endif %}{{ p.name }}{% endfor %}")
c("loop_recursive", "{% for item in [{'n': 'a', 'c': [{'n': 'b', 'c': [{'n': 'c', 'c': []}]}]}] recursive %}{{ item.n }}{{ loop.depth }}({{ loop(item.c) }}){% endfor %}")
c("loop_dict_string", "{% for k in d %}{{ k }}{% endfor %}|{% for ch in 'héy' %}[{{ ch }}]{% endfor %}")
c("scope_for_set", "{% set x = 0 %}{% for i in [1, 2] %}{{ x }}{% set x = i %}{{ x }}{% endfor %}|{{ x }}")
c("scope_if_set", "{% if true %}{% set y = 5 %}{% endif %}{{ y }}")
c("scope_namespace", "{% set ns = namespace(total=0, items=[]) %}{% for i in l %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }} {{ ns.items }} {{ ns.nope }}|{% set ns2 = namespace() %}{% set ns2.a = 1 %}{{ ns2.a }}")
c("scope_namespace_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}")
c("scope_set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = 1, 2 %}{{ c }}")
c("scope_set_block", "{% set x %}  inner {{ n }}\n{% endset %}[{{ x }}]{% set y | upper %}abc{% endset %}{{ y }}")
c("scope_loop_var_after", "{% for i in [1] %}{% endfor %}[{{ i }}]")
c("scope_set_attr_error", "{% set d.x = 1 %}")
c("scope_with", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]")
c("if_elif", "{% for v in [1, 2, 3] %}{% if v == 1 %}one{% elif v == 2 %}two{% else %}other{% endif %},{% endfor %}")
c("macro_basic", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', '?') }} {{ greet(name='c') }} {{ greet(punct='.', name='d') }} [{{ greet() }}]")
c("macro_scope", "{% set outer = 'o' %}{% macro m() %}{{ outer }}{% set outer = 'inner' %}{{ outer }}{% endmacro %}{{ m() }}{{ outer }}")
c("macro_varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}")
c("macro_too_many_error", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}")
c("macro_unknown_kw_error", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(b=1) }}")
c("macro_filter_result", "{% macro m(x) %}  {{ x }}  {% endmacro %}[{{ m(1)|trim }}]{{ m('a') is string }}")
c("macro_recursive", "{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k * fact(k - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}")
c("macro_call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ n }}{% endcall %}")
c("macro_call_block_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(v) each([1, 2]) %}[{{ v }}]{% endcall %}")
c("filter_block", "{% filter upper %}abc {{ n }}{% endfilter %}|{% filter trim|title %}  hello there  {% endfilter %}")
c("globals_range", "{{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }} {{ range(0)|list }}")
c("globals_range_big_error", "{{ range(200000)|length }}")
c("globals_dict", "{{ dict(a=1, b=2) }} {{ dict(a=1)|tojson }}")
c("globals_raise", "{{ raise_exception('custom failure: ' ~ n) }}")
c("globals_strftime", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j %I%p %y') }}|{{ strftime_now('%-d/%-m') }}")
c("globals_joiner_cycler", "{% set j = joiner('|') %}{% for x in l %}{{ j() }}{{ x }}{% endfor %} {% set cy = cycler('a', 'b') %}{{ cy.next() }}{{ cy.next() }}{{ cy.next() }}{{ cy.current }}")
c("print_types", "{{ none }} {{ true }} {{ false }} {{ 1.0 }} {{ 3 }} {{ -0.0 }} {{ 1e100 }} {{ [none, true, 1.5, 'x'] }} {{ {'a': none} }} {{ (1, 'a') }} {{ 10 / 2 }}")
c("print_namespace", "{{ namespace(a=1) }}")
c("string_escape_literal", "{{ \"a\\\"b\" }} {{ 'x\\'y' }}")

# ---- subtler behaviour ---------------------------------------------------
c("scope_read_before_set_in_loop", "{% set x = 'outer' %}{% for i in [1, 2] %}[{{ x }}]{% set x = 'in' ~ i %}[{{ x }}]{% endfor %}[{{ x }}]")
c("scope_loop_var_shadow", "{% set i = 'keep' %}{% for i in [1, 2] %}{{ i }}{% endfor %}{{ i }}")
c("scope_nested_loop_outer", "{% for a in [1, 2] %}{% set outer = loop %}{% for b in [3, 4] %}{{ outer.index }}{{ loop.index }}{% endfor %};{% endfor %}")
c("scope_set_in_if_in_loop", "{% for i in [1, 2, 3] %}{% if i == 2 %}{% set found = i %}{% endif %}{{ found }}|{% endfor %}[{{ found }}]")
c("scope_macro_sees_later_global", "{% macro m() %}{{ g }}{% endmacro %}{% set g = 'late' %}{{ m() }}")
c("scope_macro_in_loop_closure", "{% for i in [1, 2] %}{% macro m() %}<{{ i }}>{% endmacro %}{{ m() }}{% endfor %}")
c("scope_macro_default_refs_param", "{% macro m(a, b=a * 2) %}{{ a }},{{ b }}{% endmacro %}{{ m(3) }} {{ m(3, 1) }}")
c("scope_with_set_inside", "{% with %}{% set q = 1 %}{{ q }}{% endwith %}[{{ q }}]")
c("loop_filtered_prev_next", "{% for x in [1, 2, 3, 4] if x is even %}{{ loop.previtem }}-{{ x }}-{{ loop.nextitem }}-{{ loop.last }};{% endfor %}")
c("loop_length_after_break", "{% for x in range(5) %}{{ loop.length }}{% if x == 1 %}{% break %}{% endif %}{% endfor %}")
c("loop_cycle_filtered", "{% for x in range(6) if x != 2 %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}")
c("loop_over_items_dictsort", "{% for k, v in d|dictsort %}{{ k }}{{ v }}{% endfor %}|{% for pair in d.items() %}{{ pair[0] }}{{ pair.1 }}{% endfor %}")
c("loop_else_with_break", "{% for x in [1] %}{% break %}{% else %}else{% endfor %}done")
c("ws_macro_def_no_output", "a\n{% macro m() -%}\n  text\n{%- endmacro %}\nb{{ m() }}c\n")
c("ws_call_block_trim", "{% macro w() %}[{{ caller() }}]{% endmacro %}\n{% call w() -%}\n   body\n{%- endcall %}\n")
c("ws_set_block_lstrip", "{% set x %}\n    line1\n    {% if t %}\n    line2\n    {% endif %}\n{% endset %}{{ x }}")
c("ws_var_at_line_start", "a\n    {{ n }}\n    {{- n }}\nb")
c("ws_comment_only_line", "a\n    {# c #}\n    b")
c("ws_block_end_then_spaces", "{% if t %}   \nx{% endif %}")
c("ws_cr_only", "a\r{% if t %}\rb\r{% endif %}\rc")
c("ws_lstrip_unicode_space", "a\n\u3000{% if t %}b{% endif %}")
c("ws_raw_lstrip", "x\n    {% raw %}\n    {{ y }}\n    {% endraw %}\nz")
c("lit_tag_in_string", "{{ '{{' }}{{ '%}' }}{{ \"{% raw %}\" }}")
c("lit_raw_newline_in_string", "{{ 'a\nb' }}")
c("pct_format", "{{ '%s' % 5 }} {{ '%d items' % n }} {{ '%s and %s' % ('a', 'b') }} {{ '%5.1f|%-3d|%+d' % (f, 4, 3) }} {{ '%(x)s-%(y)s' % {'x': 1, 'y': 2} }} {{ '%s' % [1, 2] }} {{ '%r' % 'q' }} {{ '%x' % 255 }} {{ '%c' % 65 }}")
c("pct_format_error", "{{ '%s %s' % 1 }}")
c("tuple_ops", "{{ (1, 2) + (3,) }} {{ (1,) * 2 }} {{ (1, 2) == (1, 2) }} {{ (1, 2) < (1, 3) }} {{ [1, 2] == (1, 2) }}")
c("tuple_plus_list_error", "{{ (1, 2) + [3] }}")
c("none_ops", "{{ none == false }} {{ none != 0 }} {{ none is none }} {{ none in [none] }} {{ [none]|length }}")
c("none_add_error", "{{ none + 1 }}")
c("none_lt_error", "{{ none < 1 }}")
c("bool_arith", "{{ true + 1 }} {{ 1 + 1.0 }} {{ 'a' * true }} {{ true * 3 }} {{ 10 / 3 }} {{ 2 ** 0.5 }} {{ 7 // 2.0 }} {{ -1 ** 2 }} {{ (-1) ** 2 }}")
c("postfix_after_paren_filter", "{{ (messages | selectattr('role', 'eq', 'user') | list | last).content }} {{ (l|sort)[0] }} {{ (d|dictsort)[0][1] }}")
c("cond_in_filter_args", "{{ l|join('-' if t else '+') }} {{ messages[-1]['content'] if messages else '' }} {{ nope if nope is defined else 'n' }}")
c("default_chains", "{{ messages[0].missing|default('m') }} {{ none|default('x', true) }} {{ ''|d('e', true) }} {{ messages[0]['content']|default('', true) }}")
c("map_filters", "{{ words|map('length')|list }} {{ ['  a ', 'b  ']|map('trim')|list }} {{ people|map(attribute='age')|map('string')|join(',') }} {{ [d]|map('tojson')|first }}")
c("first_last_items", "{{ d.items()|list|first }} {{ messages|last }} {{ (messages|first).role }}")
c("string_methods_unicode", "{{ u.title() }} {{ u.upper() }} {{ u|title }} {{ u.split() }} {{ u.find('ö') }} {{ u[6:] }} {{ 'ÉCOLE'.lower() }} {{ 'straße'.upper() }}")
c("is_string_of_markup", "{{ (l|tojson) is string }} {{ ('x'|safe) is string }} {{ (5|string) is string }}")
c("dict_literal_dup_keys", "{{ {'a': 1, 'b': 2, 'a': 3} }} {{ {1: 'x', 1.0: 'y', true: 'z'} }}")
c("dict_equality_order", "{{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }} {{ messages[0] == {'content': 'Be brief.', 'role': 'system'} }}")
c("in_dict_unhashable_error", "{{ [1] in {'a': 1} }}")
c("filter_kwarg_error", "{{ l|join(sep='x') }}")
c("call_trailing_comma", "{{ range(3,)|list }} {{ [1, 2,] }} {{ {'a': 1,} }} {% macro m(a, b,) %}{{ a }}{{ b }}{% endmacro %}{{ m(1, 2,) }}")
c("set_ns_deep_error", "{% set ns = namespace(a=1) %}{% set ns.a.b = 1 %}")
c("ns_item_access", "{% set ns = namespace(items=[1], x=2) %}{{ ns.items }} {{ ns['x'] }} {{ ns.missing is defined }}")
c("test_is_sameas_false", "{{ false is sameas false }} {{ 0 is sameas false }} {{ enable is sameas false }}", dict(V, enable=False))
c("test_precedence", "{{ not 1 is odd }} {{ 2 + 1 is odd }} {{ 'a' ~ 'b' is string }} {{ -1 is number }}")
c("nested_ternary_filters", "{{ (n ~ '!') if n > 5 else 'small' }}|{{ ('a' if t else 'b')|upper }}|{{ 'a' if t else 'b'|upper }}")
c("macro_call_kw_caller", "{% macro m(x) %}{{ x }}{% if caller is defined %}:{{ caller() }}{% endif %}{% endmacro %}{{ m(1) }}|{% call m(2) %}c{% endcall %}")
c("loop_unpack_dict_items_nested", "{% for name, (a, b) in [('p', (1, 2)), ('q', (3, 4))] %}{{ name }}{{ a + b }}{% endfor %}")
c("string_compare_unicode", "{{ 'é' > 'z' }} {{ ['b', 'A', 'a', 'é']|sort }} {{ 'abc' < 'abd' }}")
c("float_formatting_more", "{{ 0.5 + 0.25 }} {{ 1/3 }} {{ 2.0 * 3 }} {{ 1e15 + 0.5 }} {{ 123e-20 }} {{ 5e-324 }} {{ 1.7976931348623157e308 }} {{ 3.0|int }} {{ 3|float }} {{ '1e3'|float }} {{ 'inf'|float }}")
c("int_formatting", "{{ 10 ** 18 }} {{ -9223372036854775807 - 1 }} {{ 0 - 0 }} {{ -0 }} {{ 7 % 7 }}")
c("escape_sequences_in_output", "{{ 'tab\there' }}|{{ ['tab\there', 'nl\nx', 'bs\\\\', 'q\"'] }}|{{ {'k\n': 'v\t'} }}")
c("generation_tag", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.role }}!{% endgeneration %}{% else %}{{ m.role }}{% endif %}{% endfor %}")

# ---- found by a randomized differential campaign ---------------------------
c("slice_runtime_nonsequence_error", "{% set x = 2.5 %}{{ x[1:] }}")
c("slice_dict_error", "{{ d[1:] }}")
c("slice_const_output_lenient", "[{{ (1e-05)[1:] }}][{{ none[1:] }}][{{ {}[1:] }}][{{ (3)[0] }}]")
c("generator_truthy_and_len", "{% if e|select('odd') %}always{% endif %}|{{ (l|map('string'))[0] }}|{{ l|select('odd')|list }}")
c("generator_len_error", "{{ l|select('odd')|length }}")
c("generator_single_use", "{% set g = l|map('string') %}{{ g|join(',') }}|{{ g|join(',') }}|{% set h = l|reverse %}{{ h|first }}{{ h|list }}")
c("generator_last_error", "{{ l|map('string')|last }}")
c("generator_falsy_input", "{{ none|select('odd')|list }}{{ 0|map('string')|list }}{{ nope|reject|list }}{{ ''|selectattr('x')|list }}")
c("generator_lazy_error", "{% set g = 5|unique %}ok")
c("items_lazy_error", "{% set g = 5|items %}ok{{ (5|items)[0] }}")
c("dict_views", "{{ d.keys() }} {{ d.values()|list }} {{ d.items()|length }} {{ 'a' in d.keys() }} {{ d.keys()[0] }}|{{ d.items()|list|first }}")
c("reverse_kinds", "{{ (1, 2)|reverse|list }} {{ d|reverse|list }} {{ d.keys()|reverse|list }} {{ (l|map('string'))|reverse }}")
c("undefined_hashable", "{{ nope in d }} {{ nope in [nope] }} {{ m.missing in d }}", dict(V, m={"role": "x"}))
c("attr_filter_no_items", "[{{ d|attr('a') }}][{{ d|attr('keys') is callable }}][{{ namespace(z=1)|attr('z') }}]")
c("int_float_undefined_error", "{{ nope|int }}")
c("indent_nonstring_error", "{{ [1, 2]|indent }}")
c("truncate_nonstring", "{{ [1, 2]|truncate(5) }}|{{ 'ok'|truncate(5) }}")
c("truncate_int_error", "{{ 5|truncate }}")
c("pct_list_lenient", "{{ 'no specifiers' % [1, 2] }}|{{ '%s!' % [1, 2] }}|{{ 'x' % {'a': 1} }}")
c("pct_tuple_strict_error", "{{ 'x' % (1,) }}")

# unknown filter/test names: compile-time errors except in if statements and
# inline if-expressions (until a loop, macro or block opens a new frame)
c("unknown_filter_in_dead_if", "{% if false %}{{ 1|nof }}{% endif %}ok")
c("unknown_filter_in_condexpr", "{{ 1|nof if false else 2 }}")
c("unknown_test_in_dead_if", "{% if false %}{{ 1 is nottest }}{% elif false %}{{ 2|nof2 }}{% else %}x{% endif %}")
c("unknown_filter_in_loop_error", "{% for x in [] %}{{ x|nof }}{% endfor %}")
c("unknown_filter_in_if_loop_error", "{% if true %}{% for x in [] %}{{ x|nof }}{% endfor %}{% endif %}")
c("unknown_filter_in_macro_error", "{% macro m() %}{{ 1|nof }}{% endmacro %}ok")
c("unknown_filter_in_setblock_error", "{% if false %}{% set x %}{{ 1|nof }}{% endset %}{% endif %}")
c("unknown_filter_in_if_test_runtime_error", "{% if 1|nof %}{% endif %}")
c("unknown_filter_in_for_else_soft", "{% if false %}{% for x in [] %}{% else %}{{ 1|nof }}{% endfor %}{% endif %}ok")
c("unknown_filter_in_loop_iter_soft", "{% if false %}{% for x in 1|nof %}{% endfor %}{% endif %}ok")

# jinja2 folds constant expressions at compile time (forgiving lookups)
c("fold_if_test", "{% if not ((2.5)[1:]) %}folded{% endif %}|{% if ((3.0)[:-1:2]) is callable %}a{% else %}b{% endif %}")
c("fold_set_unsafe_error", "{% set v = (2.5)[1:] %}{{ v }}")
c("fold_set_safe", "{% set v = ((2.5)[1:])|string %}[{{ v }}]{% set w = none[1:] is defined %}{{ w }}")
c("fold_output_short_circuit", "[{{ (-(1 or l[-1]))[1:-1:-1] }}][{{ (none and l)[1:] }}][{{ (l and 5)[1:] }}]")
c("fold_runtime_name_error", "{% set x = 5 %}{{ (x)[1:] }}")
c("fold_nested_in_call_error", "{{ [(2.5)[1:]]|length }}|{{ range((2.5)[1:]|length)|list }}")

# syntax errors (reference error text is Python's; only "it errors" is compared)
for i, t in enumerate(["{% if x %}", "{% for %}", "{{ 1 + }}", "{% endif %}", "{{ x", "{% set %}", "{# unclosed", "{% macro m( %}{% endmacro %}",
                       "{% unknowntag %}", "{{ a.. }}", "{{ [1, 2 }}", "{% for x in y %}{% endif %}", "{{ x is }}", "{% break %}", "{{ 'abc }}", "{{ f(a=1, 2) }}", "{% raw %}abc", "{{ }}"]):
    c(f"syntax_error_{i}", t)

# real-world fragments
c("real_think_split", "{% set content = messages[2].content %}{% if '</think>' in content %}{% set reasoning = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}{% set content = content.split('</think>')[-1].lstrip('\\n') %}{% endif %}[{{ reasoning }}][{{ content }}]")
c("real_tool_args", "{% for tc in messages[2].tool_calls %}{% for k, v in tc.function.arguments|items %}{{ k }}={{ v | tojson | safe if v is mapping or (v is sequence and v is not string) else v | string }};{% endfor %}{% endfor %}")
c("real_messages_slice", "{% set loop_messages = messages[1:] %}{% for m in loop_messages %}{{ m['role'] }}{% if not loop.last %},{% endif %}{% endfor %}")
c("real_last_user", "{% set ns = namespace(idx=-1) %}{% for m in messages[::-1] %}{% if ns.idx == -1 and m.role == 'user' %}{% set ns.idx = (messages|length - 1) - loop.index0 %}{% endif %}{% endfor %}{{ ns.idx }}")
c("real_content_parts", "{% for p in content %}{% if p['type'] == 'text' %}{{ p['text'] }}{% elif p.type == 'image' %}<img>{% endif %}{% endfor %}", {"content": [{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}]})

with open("cases.in.json", "w") as f:
    json.dump(cases, f, indent=1, ensure_ascii=False)
print(len(cases), "cases")

# ---- real templates x conversations -------------------------------------
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Get the current weather — in °C",
           "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"},
                          "days": {"type": "integer", "enum": [1, 3, 7]}}, "required": ["city"]}}}
SEARCH = {"type": "function", "function": {"name": "search", "description": "Search the web",
          "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}, "return": {"type": "string"}}}
CALL1 = {"id": "call12345", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich", "days": 3}}}
CALL2 = {"id": "call67890", "type": "function", "function": {"name": "search", "arguments": {"q": "a <b> & \"c\"\nline2"}}}

CONVS = {
    "single": [{"role": "user", "content": "Hello!"}],
    "multi": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "2+2?"},
              {"role": "assistant", "content": "4"}, {"role": "user", "content": "  and 3+3?  \n"}],
    "no_system_multi": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hey."}, {"role": "user", "content": "Joke?"}],
    "unicode": [{"role": "user", "content": "Ünïcödé ✓ 漢字 😀 \"quotes\" 'single' \\ back"}],
    "think_in_content": [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "<think>\nreasoning here\n</think>\n\nanswer one"},
                         {"role": "user", "content": "q2"}, {"role": "assistant", "content": "<think>\nlast thought\n</think>\n\nfinal"}],
    "reasoning_field": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "reasoning_content": "I thought."}, {"role": "user", "content": "more"}],
    "tool_round": [{"role": "user", "content": "Weather in Zürich?"},
                   {"role": "assistant", "content": "", "tool_calls": [CALL1]},
                   {"role": "tool", "tool_call_id": "call12345", "content": "{\"temp\": 21}"}],
    "tool_round_two_calls": [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather and news?"},
                             {"role": "assistant", "content": "Let me check.", "tool_calls": [CALL1, CALL2]},
                             {"role": "tool", "tool_call_id": "call12345", "content": "sunny"},
                             {"role": "tool", "tool_call_id": "call67890", "content": "nothing new"},
                             {"role": "assistant", "content": "Sunny, and no news."}, {"role": "user", "content": "Thanks"}],
    "tool_null_content": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": None, "tool_calls": [CALL1]},
                          {"role": "tool", "tool_call_id": "call12345", "content": "rain"}],
    "multimodal": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]},
                   {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]}, {"role": "user", "content": [{"type": "text", "text": "Sure?"}]}],
    "system_only": [{"role": "system", "content": "sys"}],
    "bad_order": [{"role": "assistant", "content": "I start"}, {"role": "user", "content": "odd"}],
    "empty": [],
}
TEMPLATES = ["chat-templates/templates/" + n for n in [
    "HuggingFaceTB-SmolLM3-3B.jinja", "Qwen-Qwen2.5-7B-Instruct.jinja", "Qwen-Qwen3-0.6B.jinja", "Qwen3.5-4B.jinja",
    "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "google-gemma-2-2b-it.jinja", "meta-llama-Llama-3.1-8B-Instruct.jinja",
    "meta-llama-Llama-3.2-3B-Instruct.jinja", "microsoft-Phi-3.5-mini-instruct.jinja", "mistralai-Mistral-Nemo-Instruct-2407.jinja",
    "openbmb-MiniCPM5-1B.jinja"]] + ["hf/qwen3_tokenizer_config.json", "hf/llama3_tokenizer_config.json", "hf/gemma3_tokenizer_config.json"]
TOKENS = {"qwen": ("", "<|im_end|>"), "llama": ("<|begin_of_text|>", "<|eot_id|>"), "gemma": ("<bos>", "<end_of_turn>"),
          "mistral": ("<s>", "</s>"), "deepseek": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"), "phi": ("<s>", "<|endoftext|>"),
          "smol": ("", "<|im_end|>"), "minicpm": ("<s>", "<|im_end|>")}

tcases = []
for tf in TEMPLATES:
    key = next(k for k in TOKENS if k in tf.lower())
    bos, eos = TOKENS[key]
    for conv, msgs in CONVS.items():
        variants = [("gen", {"add_generation_prompt": True}), ("nogen", {"add_generation_prompt": False})]
        if conv in ("single", "multi", "tool_round"):
            variants += [("tools", {"add_generation_prompt": True, "tools": [WEATHER, SEARCH]}),
                         ("think_off", {"add_generation_prompt": True, "enable_thinking": False}),
                         ("think_on", {"add_generation_prompt": True, "enable_thinking": True})]
        if conv in ("tool_round_two_calls", "tool_null_content"):
            variants.append(("tools", {"add_generation_prompt": True, "tools": [WEATHER, SEARCH]}))
        for vname, extra in variants:
            # transformers passes tools and documents (None when absent) and the special tokens.
            vars = {"messages": msgs, "tools": None, "documents": None, "bos_token": bos, "eos_token": eos}
            if key == "llama" and "3.1" not in tf and "3.2" not in tf:
                pass
            if "3.2" in tf:
                vars["date_string"] = "07 Mar 2025"
            vars.update(extra)
            tcases.append({"name": f"{tf.split('/')[-1]}/{conv}/{vname}", "template_file": tf, "vars": vars})
# Llama 3.2 without date_string uses strftime_now.
tcases.append({"name": "Llama-3.2/strftime", "template_file": TEMPLATES[7],
               "vars": {"messages": CONVS["single"], "tools": None, "documents": None, "bos_token": "<|begin_of_text|>", "add_generation_prompt": True}})
with open("templates.in.json", "w") as f:
    json.dump(tcases, f, indent=1, ensure_ascii=False)
print(len(tcases), "template cases")
