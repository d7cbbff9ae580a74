//! `@liquid` against liquidjs 10.27.2 (the version Segment pins): each template below was
//! rendered by liquidjs with Segment's options against `data`, and this engine must give the
//! same output.
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::mapping;
use serde_json::{json, Value};

const LIQUIDJS_VECTORS: &str = r#"{
 "data": {
  "properties": {
   "name": "Ada Lovelace",
   "n": 3,
   "f": 2.5,
   "neg": -4,
   "tags": [
    "a",
    "b",
    "c"
   ],
   "empty": "",
   "sp": "  x  ",
   "nul": null,
   "t": true,
   "f0": false,
   "html": "<b>Hi</b> & 'q'",
   "obj": {
    "k": 1
   },
   "zero": 0,
   "url": "a b&c/d?e=é",
   "str5": "5",
   "big": 10
  },
  "traits": {
   "email": "A@B.com"
  }
 },
 "cases": [
  {
   "template": "{{ properties.name }}",
   "output": "Ada Lovelace"
  },
  {
   "template": "{{ properties.name | upcase }}",
   "output": "ADA LOVELACE"
  },
  {
   "template": "{{ properties.name | downcase }}",
   "output": "ada lovelace"
  },
  {
   "template": "{{ properties.name | capitalize }}",
   "output": "Ada lovelace"
  },
  {
   "template": "{{ properties.n | plus: 2 }}",
   "output": "5"
  },
  {
   "template": "{{ properties.n | minus: 5 }}",
   "output": "-2"
  },
  {
   "template": "{{ properties.n | times: 1.5 }}",
   "output": "4.5"
  },
  {
   "template": "{{ properties.n | divided_by: 2 }}",
   "output": "1.5"
  },
  {
   "template": "{{ properties.big | divided_by: 3 }}",
   "output": "3.3333333333333335"
  },
  {
   "template": "{{ properties.n | modulo: 2 }}",
   "output": "1"
  },
  {
   "template": "{{ properties.f | round }}",
   "output": "3"
  },
  {
   "template": "{{ properties.f | ceil }}",
   "output": "3"
  },
  {
   "template": "{{ properties.f | floor }}",
   "output": "2"
  },
  {
   "template": "{{ properties.neg | abs }}",
   "output": "4"
  },
  {
   "template": "{{ properties.n | at_least: 5 }}",
   "output": "5"
  },
  {
   "template": "{{ properties.n | at_most: 1 }}",
   "output": "1"
  },
  {
   "template": "{{ 2.345 | round: 2 }}",
   "output": "2.35"
  },
  {
   "template": "{{ properties.tags | join: ', ' }}",
   "output": "a, b, c"
  },
  {
   "template": "{{ properties.tags }}",
   "output": "abc"
  },
  {
   "template": "{{ properties.tags | first }}",
   "output": "a"
  },
  {
   "template": "{{ properties.tags | last }}",
   "output": "c"
  },
  {
   "template": "{{ properties.tags.size }}",
   "output": "3"
  },
  {
   "template": "{{ properties.tags[1] }}",
   "output": "b"
  },
  {
   "template": "{{ properties.tags[-1] }}",
   "output": "c"
  },
  {
   "template": "{{ properties.name.size }}",
   "output": "12"
  },
  {
   "template": "{{ properties.obj.size }}",
   "output": "1"
  },
  {
   "template": "{{ properties.obj }}",
   "output": "[object Object]"
  },
  {
   "template": "{{ properties.missing | default: 'dflt' }}",
   "output": "dflt"
  },
  {
   "template": "{{ properties.empty | default: 'dflt' }}",
   "output": "dflt"
  },
  {
   "template": "{{ properties.f0 | default: 'dflt' }}",
   "output": "dflt"
  },
  {
   "template": "{{ properties.zero | default: 'dflt' }}",
   "output": "0"
  },
  {
   "template": "{{ properties.sp | strip }}|",
   "output": "x|"
  },
  {
   "template": "{{ properties.sp | lstrip }}|",
   "output": "x  |"
  },
  {
   "template": "{{ properties.sp | rstrip }}|",
   "output": "  x|"
  },
  {
   "template": "{{ properties.html | escape }}",
   "output": "&lt;b&gt;Hi&lt;/b&gt; &amp; &#39;q&#39;"
  },
  {
   "template": "{{ properties.html | strip_html }}",
   "output": "Hi & 'q'"
  },
  {
   "template": "{{ properties.url | url_encode }}",
   "output": "a+b%26c%2Fd%3Fe%3D%C3%A9"
  },
  {
   "template": "{{ 'a+b%20c' | url_decode }}",
   "output": "a b c"
  },
  {
   "template": "{{ properties.name | replace: 'a', 'X' }}",
   "output": "AdX LovelXce"
  },
  {
   "template": "{{ properties.name | replace_first: 'a', 'X' }}",
   "output": "AdX Lovelace"
  },
  {
   "template": "{{ properties.name | remove: 'e' }}",
   "output": "Ada Lovlac"
  },
  {
   "template": "{{ properties.name | truncate: 8 }}",
   "output": "Ada L..."
  },
  {
   "template": "{{ properties.name | truncatewords: 1 }}",
   "output": "Ada..."
  },
  {
   "template": "{{ properties.name | split: ' ' | last }}",
   "output": "Lovelace"
  },
  {
   "template": "{{ properties.name | slice: 0, 3 }}",
   "output": "Ada"
  },
  {
   "template": "{{ properties.name | slice: -3, 2 }}",
   "output": "ac"
  },
  {
   "template": "{{ properties.name | append: '!' | prepend: '>' }}",
   "output": ">Ada Lovelace!"
  },
  {
   "template": "{{ properties.obj | json }}",
   "output": "{\"k\":1}"
  },
  {
   "template": "{{ properties.t }}{{ properties.nul }}{{ properties.f0 }}",
   "output": "truefalse"
  },
  {
   "template": "{% if properties.n > 2 %}gt{% else %}le{% endif %}",
   "output": "gt"
  },
  {
   "template": "{% if properties.str5 > 4 %}y{% else %}n{% endif %}",
   "output": "y"
  },
  {
   "template": "{% if properties.empty %}truthy{% else %}falsy{% endif %}",
   "output": "truthy"
  },
  {
   "template": "{% if properties.zero %}truthy{% endif %}",
   "output": "truthy"
  },
  {
   "template": "{% if properties.missing == nil %}nil{% endif %}",
   "output": "nil"
  },
  {
   "template": "{% if properties.empty == empty %}E{% endif %}{% if properties.sp == blank %}B{% endif %}{% if properties.nul == blank %}N{% endif %}",
   "output": "EN"
  },
  {
   "template": "{% if properties.tags contains 'b' %}c{% endif %}{% if properties.name contains 'Love' %}s{% endif %}",
   "output": "cs"
  },
  {
   "template": "{% if true or false and false %}T{% else %}F{% endif %}",
   "output": "T"
  },
  {
   "template": "{% if false and true or true %}T{% else %}F{% endif %}",
   "output": "F"
  },
  {
   "template": "{% unless properties.t %}u{% else %}nu{% endunless %}",
   "output": "nu"
  },
  {
   "template": "{% if properties.n == 3 and properties.name != 'x' %}ok{% endif %}",
   "output": "ok"
  },
  {
   "template": "{% if properties.n >= 3 %}a{% elsif properties.n < 3 %}b{% endif %}",
   "output": "a"
  },
  {
   "template": "{% assign x = properties.name | upcase %}{{ x }}",
   "output": "ADA LOVELACE"
  },
  {
   "template": "{% capture c %}[{{ properties.n }}]{% endcapture %}{{ c }}{{ c }}",
   "output": "[3][3]"
  },
  {
   "template": "a {{- properties.n -}} b",
   "output": "a3b"
  },
  {
   "template": "a {%- if true -%} b {%- endif -%} c",
   "output": "abc"
  },
  {
   "template": "{% comment %}hidden{% endcomment %}v",
   "output": "v"
  },
  {
   "template": "{% raw %}{{ x }}{% endraw %}",
   "output": "{{ x }}"
  },
  {
   "template": "{{ traits.email | downcase }}",
   "output": "a@b.com"
  },
  {
   "template": "{{ properties.tags | size }}",
   "output": "3"
  },
  {
   "template": "{{ properties.name | size }}",
   "output": "12"
  },
  {
   "template": "{{ 'x' | upcase }}{{ \"y\" }}",
   "output": "Xy"
  },
  {
   "template": "{{ 10 | minus: 0.1 }}",
   "output": "9.9"
  },
  {
   "template": "{{ properties.f | times: 3 }}",
   "output": "7.5"
  },
  {
   "template": "{% if properties.n == '3' %}s{% else %}n{% endif %}",
   "output": "n"
  },
  {
   "template": "{% if properties.tags == empty %}e{% else %}ne{% endif %}",
   "output": "ne"
  },
  {
   "template": "{{ properties.tags | compact | join: '-' }}",
   "output": "a-b-c"
  },
  {
   "template": "{% if not properties.t %}x{% else %}y{% endif %}",
   "output": "y"
  },
  {
   "template": "{{ properties.name | unknownfilter }}",
   "output": "Ada Lovelace"
  },
  {
   "template": "{% echo properties.n | plus: 1 %}",
   "output": "4"
  },
  {
   "template": "{{ (1..3) | join: ',' }}",
   "output": "1,2,3"
  },
  {
   "template": "{% if properties.obj %}obj{% endif %}",
   "output": "obj"
  },
  {
   "template": "{{ properties.obj.k }}",
   "output": "1"
  },
  {
   "template": "{{ properties['name'] }}",
   "output": "Ada Lovelace"
  },
  {
   "template": "{{ properties.f | divided_by: 0 }}",
   "output": "Infinity"
  },
  {
   "template": "{{ -0.5 | round }}",
   "output": "-1"
  },
  {
   "template": "{{ 2.5 | round }}",
   "output": "3"
  }
 ]
}"#;

/// Where liquidjs follows JavaScript's rules (white space in `strip`, `blank` and
/// `truncatewords`, `Number(s)`, `Number::toString`, array indexes) or rules of its own (its
/// `BLANK` characters in the tokenizer and whitespace control, its `toNumber` in the math
/// filters, `strip: chars`, `modulo`'s sign): each template rendered by liquidjs 10.27.2 with
/// Segment's options (`renderLimit`, `parseLimit`, `memoryLimit`, the disabled tags).
const LIQUIDJS_JS_RULES_VECTORS: &str = r#"{
 "data": {
  "properties": {
   "sp": " \ufeff x \u0085",
   "feff": "\ufeff",
   "nel": "\u0085",
   "mvs": "\u180e",
   "abc": "abc",
   "f32": 906.3425903320312,
   "hex": "0x1000000000000081",
   "bin": " 0b101 ",
   "arr": [
    5
   ],
   "arr2": [
    1,
    2
   ],
   "obj": {
    "a": 1
   },
   "neg": -7,
   "k01": "01",
   "km1": "-1",
   "k1": "1",
   "emo": "\ud83d\ude00a\ud83d\ude00",
   "pair": [
    "x",
    "y"
   ],
   "ws": " \u3000a\u00a0 b\tc\n",
   "zero": 0,
   "nul": null
  }
 },
 "cases": [
  {
   "template": "{{ 'abc' | plus: 1 }}",
   "output": "1"
  },
  {
   "template": "{{ properties.abc | times: 2 }}",
   "output": "0"
  },
  {
   "template": "{{ properties.missing | plus: 1 }}",
   "output": "1"
  },
  {
   "template": "{{ properties.obj | plus: 1 }}",
   "output": "1"
  },
  {
   "template": "{{ properties.arr | plus: 1 }}",
   "output": "6"
  },
  {
   "template": "{{ properties.arr2 | plus: 1 }}",
   "output": "1"
  },
  {
   "template": "{{ 'abc' | abs }}",
   "output": "0"
  },
  {
   "template": "{{ 'abc' | round }}",
   "output": "0"
  },
  {
   "template": "{{ 2.5 | round: 'x' }}",
   "output": "3"
  },
  {
   "template": "{{ 'abc' | at_least: 'x' }}",
   "output": "0"
  },
  {
   "template": "{{ 'abc' | modulo: 2 }}",
   "output": "0"
  },
  {
   "template": "{{ 7 | divided_by: 2, 0 }}",
   "output": "3.5"
  },
  {
   "template": "{{ 7 | divided_by: 2, 1 }}",
   "output": "3"
  },
  {
   "template": "{{ 7 | divided_by: 2, true }}",
   "output": "3"
  },
  {
   "template": "{{ 7 | divided_by: 2, 'x' }}",
   "output": "3.5"
  },
  {
   "template": "{{ 7 | divided_by: 2, false }}",
   "output": "3.5"
  },
  {
   "template": "{{ properties.hex | plus: 0 }}",
   "output": "1152921504606847200"
  },
  {
   "template": "{{ properties.bin | plus: 0 }}",
   "output": "5"
  },
  {
   "template": "{{ '0o17' | plus: 0 }}",
   "output": "15"
  },
  {
   "template": "{{ '\ufeff5' | plus: 1 }}",
   "output": "6"
  },
  {
   "template": "{{ '\u00855' | plus: 1 }}",
   "output": "1"
  },
  {
   "template": "{% if '0b101' > 4 %}y{% else %}n{% endif %}",
   "output": "y"
  },
  {
   "template": "{% if '\ufeff5' > 4 %}y{% else %}n{% endif %}",
   "output": "y"
  },
  {
   "template": "{% if '\u00855' > 4 %}y{% else %}n{% endif %}",
   "output": "n"
  },
  {
   "template": "{{ properties.f32 }}",
   "output": "906.3425903320312"
  },
  {
   "template": "{{ properties.f32 | plus: 0 }}",
   "output": "906.3425903320312"
  },
  {
   "template": "{{ properties.sp | strip }}|",
   "output": "x \u0085|"
  },
  {
   "template": "{{ properties.sp | lstrip }}|",
   "output": "x \u0085|"
  },
  {
   "template": "{{ properties.sp | rstrip }}|",
   "output": " \ufeff x \u0085|"
  },
  {
   "template": "{% if properties.feff == blank %}B{% else %}N{% endif %}",
   "output": "B"
  },
  {
   "template": "{% if properties.nel == blank %}B{% else %}N{% endif %}",
   "output": "N"
  },
  {
   "template": "{% if properties.mvs == blank %}B{% else %}N{% endif %}",
   "output": "N"
  },
  {
   "template": "a \u0085{{- 'x' }}",
   "output": "a \u0085x"
  },
  {
   "template": "a \u180e{{- 'x' }}",
   "output": "ax"
  },
  {
   "template": "a \ufeff{{- 'x' }}",
   "output": "a \ufeffx"
  },
  {
   "template": "a \u00a0{{- 'x' }}",
   "output": "ax"
  },
  {
   "template": "{{ 'x' -}}\u3000\u0085b",
   "output": "x\u0085b"
  },
  {
   "template": "{{ 'x' -}}\u3000\ufeffb",
   "output": "x\ufeffb"
  },
  {
   "template": "{{ 'x' -}}\u180e b",
   "output": "xb"
  },
  {
   "template": "{%- assign\u00a0y\u00a0=\u00a0'q' -%}{{ y }}",
   "output": "q"
  },
  {
   "template": "{% capture\u3000z %}c{% endcapture %}{{ z }}",
   "output": "c"
  },
  {
   "template": "{{\u2003'x'\u180e}}",
   "output": "x"
  },
  {
   "template": "{{ properties.arr2['01'] }}",
   "output": ""
  },
  {
   "template": "{{ properties.arr2['+1'] }}",
   "output": ""
  },
  {
   "template": "{{ properties.arr2['-1'] }}",
   "output": ""
  },
  {
   "template": "{{ properties.arr2['1'] }}",
   "output": "2"
  },
  {
   "template": "{{ properties.arr2[-1] }}",
   "output": "2"
  },
  {
   "template": "{{ properties.arr2[properties.k01] }}",
   "output": ""
  },
  {
   "template": "{{ properties.arr2[properties.km1] }}",
   "output": ""
  },
  {
   "template": "{{ properties.arr2[properties.k1] }}",
   "output": "2"
  },
  {
   "template": "{{ properties.arr2['1.0'] }}",
   "output": ""
  },
  {
   "template": "{{ properties.arr2[' 1'] }}",
   "output": ""
  },
  {
   "template": "{{ 'a b' | truncatewords: 2 }}",
   "output": "a b..."
  },
  {
   "template": "{{ 'a  b c' | truncatewords: 2 }}",
   "output": "a b..."
  },
  {
   "template": "{{ 'a\tb c' | truncatewords: 1 }}",
   "output": "a..."
  },
  {
   "template": "{{ properties.ws | truncatewords: 2 }}",
   "output": " a..."
  },
  {
   "template": "{{ properties.ws | truncatewords: 9 }}|",
   "output": " a b c |"
  },
  {
   "template": "{{ properties.ws | truncatewords: 5 }}|",
   "output": " a b c ...|"
  },
  {
   "template": "{{ '' | truncatewords: 1 }}",
   "output": "..."
  },
  {
   "template": "{{ 'a b c' | truncatewords: 0 }}",
   "output": "a..."
  },
  {
   "template": "{{ 'a b c' | truncatewords: -3, '!' }}",
   "output": "a!"
  },
  {
   "template": "{{ 'a b c' | truncatewords: nil }}",
   "output": "a..."
  },
  {
   "template": "{{ 'one two three' | truncatewords: 2, '' }}",
   "output": "one two"
  },
  {
   "template": "{{ 'xxaxx' | strip: 'x' }}|",
   "output": "a|"
  },
  {
   "template": "{{ 'xyaxy' | lstrip: 'yx' }}|",
   "output": "axy|"
  },
  {
   "template": "{{ 'xyaxy' | rstrip: 'xy' }}|",
   "output": "xya|"
  },
  {
   "template": "{{ 'xxxx' | strip: 'x' }}|",
   "output": "|"
  },
  {
   "template": "{{ 'xxxx' | lstrip: 'x' }}|",
   "output": "|"
  },
  {
   "template": "{{ 'xxxx' | rstrip: 'x' }}|",
   "output": "|"
  },
  {
   "template": "{{ ' xa ' | strip: '' }}|",
   "output": "xa|"
  },
  {
   "template": "{{ ' xa ' | strip: nil }}|",
   "output": " xa |"
  },
  {
   "template": "{{ ' xa ' | strip: empty }}|",
   "output": " xa |"
  },
  {
   "template": "{{ ' xa ' | strip: blank }}|",
   "output": " xa |"
  },
  {
   "template": "{{ ' xa ' | strip: properties.nul }}|",
   "output": "xa|"
  },
  {
   "template": "{{ ' xa ' | strip: properties.missing }}|",
   "output": "xa|"
  },
  {
   "template": "{{ ' 0a0 ' | strip: properties.zero }}|",
   "output": "0a0|"
  },
  {
   "template": "{{ ' xa ' | lstrip: false }}|",
   "output": "xa |"
  },
  {
   "template": "{{ 'tatrue' | rstrip: true }}|",
   "output": "ta|"
  },
  {
   "template": "{{ '0a0' | strip: '0' }}|",
   "output": "a|"
  },
  {
   "template": "{{ 'xyay' | strip: properties.pair }}|",
   "output": "a|"
  },
  {
   "template": "{{ properties.emo | strip: properties.emo }}|",
   "output": "\ud83d\ude00a\ud83d\ude00|"
  },
  {
   "template": "{{ '1a1' | strip: 1 }}|",
   "output": "a|"
  },
  {
   "template": "{{ properties.neg | modulo: 3 }}",
   "output": "2"
  },
  {
   "template": "{{ -7 | modulo: -3 }}",
   "output": "-1"
  },
  {
   "template": "{{ 7 | modulo: -3 }}",
   "output": "-2"
  },
  {
   "template": "{{ -5.5 | modulo: 2 }}",
   "output": "0.5"
  },
  {
   "template": "{{ 1.5 | modulo: -1 }}",
   "output": "-0.5"
  },
  {
   "template": "{{ 5 | modulo: 0 }}",
   "output": "NaN"
  }
 ]
}"#;

/// JavaScript's arithmetic in `round` (`Math.round(v * amp * (1 + Number.EPSILON)) / amp`,
/// `amp = Math.pow(10, digits)` as V8 computes it: prices to cents, taxes, negative digits),
/// `size` of objects (their `length` member), `first` and `last` of what is not an array, and
/// `truncate` passing its input through when it fits: rendered by liquidjs 10.27.2 with
/// Segment's options (`node bench/render-liquid.mjs` with this document's data and templates).
const LIQUIDJS_ARITHMETIC_VECTORS: &str = r#"{
 "data": {
  "properties": {
   "prices": [
    1.255,
    1.005,
    4.35,
    0.285,
    2.675,
    19.99,
    1.115,
    8.675
   ],
   "p1": 1.255,
   "p2": 1.005,
   "p3": 4.35,
   "p4": 0.285,
   "p5": 8.675,
   "p6": 19.99,
   "big": 1e+21,
   "obj": {
    "a": 1,
    "b": 2
   },
   "withlength": {
    "length": 5
   },
   "zerolength": {
    "length": 0
   },
   "textlength": {
    "length": "abc"
   },
   "arraylike": {
    "0": "a",
    "1": "b",
    "length": 2
   },
   "arr": [
    1,
    2,
    3
   ],
   "word": "h\u00e9llo"
  }
 },
 "cases": [
  {
   "template": "{{ properties.p1 | times: 100 | round }}",
   "output": "126"
  },
  {
   "template": "{{ properties.p2 | times: 100 | round }}",
   "output": "101"
  },
  {
   "template": "{{ properties.p3 | times: 100 | round }}",
   "output": "435"
  },
  {
   "template": "{{ properties.p4 | times: 100 | round }}",
   "output": "29"
  },
  {
   "template": "{{ properties.p5 | times: 100 | round }}",
   "output": "868"
  },
  {
   "template": "{{ properties.p6 | times: 1.0825 | round: 2 }}",
   "output": "21.64"
  },
  {
   "template": "{{ properties.p1 | plus: 0.1 | times: 3 | round: 2 }}",
   "output": "4.07"
  },
  {
   "template": "{{ properties.p4 | times: 3 | round: 2 }}",
   "output": "0.86"
  },
  {
   "template": "{{ 1.255 | round: 2 }}",
   "output": "1.26"
  },
  {
   "template": "{{ 2.675 | round: 2 }}",
   "output": "2.68"
  },
  {
   "template": "{{ 1.005 | round: 2 }}",
   "output": "1.01"
  },
  {
   "template": "{{ 8.675 | round: 2 }}",
   "output": "8.68"
  },
  {
   "template": "{{ -2.5 | round }}",
   "output": "-3"
  },
  {
   "template": "{{ -0.4 | round }}",
   "output": "0"
  },
  {
   "template": "{{ 1234.5 | round: -2 }}",
   "output": "1200"
  },
  {
   "template": "{{ -1250 | round: -2 }}",
   "output": "-1300"
  },
  {
   "template": "{{ 123456 | round: -4 }}",
   "output": "120000.00000000001"
  },
  {
   "template": "{{ 123456 | round: -5 }}",
   "output": "100000.00000000001"
  },
  {
   "template": "{{ 0.000123456 | round: 5 }}",
   "output": "0.00012"
  },
  {
   "template": "{{ 5.55 | round: 1 }}",
   "output": "5.6"
  },
  {
   "template": "{{ properties.big | round }}",
   "output": "1.0000000000000003e+21"
  },
  {
   "template": "{{ properties.big | round: 2 }}",
   "output": "1.0000000000000001e+21"
  },
  {
   "template": "{{ 2.5 | round: 23 }}",
   "output": "2.500000000000001"
  },
  {
   "template": "{{ 2.5 | round: 400 }}",
   "output": "NaN"
  },
  {
   "template": "{{ 2.5 | round: -400 }}",
   "output": "NaN"
  },
  {
   "template": "{{ 2.5 | round: \"2\" }}",
   "output": "2.5"
  },
  {
   "template": "{{ 2.5 | round: properties.missing }}",
   "output": "3"
  },
  {
   "template": "{{ properties.obj | size }}",
   "output": "0"
  },
  {
   "template": "{{ properties.withlength | size }}",
   "output": "5"
  },
  {
   "template": "{{ properties.zerolength | size }}",
   "output": "0"
  },
  {
   "template": "{{ properties.textlength | size }}",
   "output": "abc"
  },
  {
   "template": "{{ properties.arr | size }}",
   "output": "3"
  },
  {
   "template": "{{ properties.word | size }}",
   "output": "5"
  },
  {
   "template": "{{ properties.missing | first | json }}",
   "output": "\"\""
  },
  {
   "template": "{{ properties.missing | last | json }}",
   "output": "\"\""
  },
  {
   "template": "{{ 12 | last | json }}",
   "output": "\"\""
  },
  {
   "template": "{{ properties.obj | first | json }}",
   "output": "\"\""
  },
  {
   "template": "{{ properties.arraylike | first }}",
   "output": "a"
  },
  {
   "template": "{{ properties.arraylike | last }}",
   "output": "b"
  },
  {
   "template": "{{ properties.word | first }}{{ properties.word | last }}",
   "output": "ho"
  },
  {
   "template": "{{ 123 | truncate: 5 | plus: 1 }}",
   "output": "124"
  },
  {
   "template": "{{ 123456 | truncate: 5 }}",
   "output": "12..."
  },
  {
   "template": "{{ properties.arr | truncate: 5 | size }}",
   "output": "3"
  },
  {
   "template": "{{ properties.missing | truncate: 5 | json }}",
   "output": ""
  },
  {
   "template": "{{ properties.p1 | truncate: 10 | times: 2 }}",
   "output": "2.51"
  }
 ]
}"#;

/// Property reads as liquidjs makes them (JavaScript's own properties): a string's characters
/// by index (`name[0]`, `name.0`, `name["1"]`, `name[1.0]`) and its `length`, an array's
/// `length` and its elements by a whole decimal (`items[1.0]`, `items[-1.0]`), a variable
/// assigned a missing value (`undefined`, which `json` writes as nothing): rendered by
/// liquidjs 10.27.2 with Segment's options (`node bench/render-liquid.mjs`).
const LIQUIDJS_PROPERTY_VECTORS: &str = r#"{
 "data": {
  "properties": {
   "name": "Ada",
   "items": [
    10,
    20,
    30
   ],
   "one": 1,
   "key": "1",
   "obj": {
    "a": 1
   },
   "n": 5
  }
 },
 "cases": [
  {
   "template": "{{ properties.name[0] }}",
   "output": "A"
  },
  {
   "template": "{{ properties.name.0 }}{{ properties.name.2 }}",
   "output": "Aa"
  },
  {
   "template": "{{ properties.name[3] }}|",
   "output": "|"
  },
  {
   "template": "{{ properties.name[-1] }}|",
   "output": "|"
  },
  {
   "template": "{{ properties.name[\"1\"] }}",
   "output": "d"
  },
  {
   "template": "{{ properties.name[1.0] }}",
   "output": "d"
  },
  {
   "template": "{{ properties.name[properties.key] }}",
   "output": "d"
  },
  {
   "template": "{{ properties.name[properties.one] }}",
   "output": "d"
  },
  {
   "template": "{{ properties.name.length }}",
   "output": "3"
  },
  {
   "template": "{{ properties.name[\"length\"] | plus: 1 }}",
   "output": "4"
  },
  {
   "template": "{{ properties.name.size }}",
   "output": "3"
  },
  {
   "template": "{{ properties.name.first }}|{{ properties.name.last }}|",
   "output": "||"
  },
  {
   "template": "{{ properties.items.length }}",
   "output": "3"
  },
  {
   "template": "{{ properties.items[\"length\"] }}",
   "output": "3"
  },
  {
   "template": "{{ properties.items[1.0] }}",
   "output": "20"
  },
  {
   "template": "{{ properties.items[1.5] }}|",
   "output": "|"
  },
  {
   "template": "{{ properties.items[-1.0] }}",
   "output": "30"
  },
  {
   "template": "{{ properties.items[properties.one] }}",
   "output": "20"
  },
  {
   "template": "{{ properties.obj.length }}|",
   "output": "|"
  },
  {
   "template": "{{ properties.n.length }}|",
   "output": "|"
  },
  {
   "template": "{% if properties.name[0] == \"A\" %}initial{% endif %}",
   "output": "initial"
  },
  {
   "template": "{{ properties.name | first }}{{ properties.name | last }}",
   "output": "Aa"
  },
  {
   "template": "{{ \"\" | first | json }}",
   "output": "\"\""
  },
  {
   "template": "{% assign a = properties.missing %}{{ a | json }}|{% if a == nil %}nil{% endif %}|{{ a | default: \"d\" }}|{{ a.b }}|{{ a | size }}",
   "output": "|nil|d||0"
  },
  {
   "template": "{% assign a = properties.name %}{{ a | json }}",
   "output": "\"Ada\""
  },
  {
   "template": "{% assign a = nil %}{{ a }}|{% if a %}t{% else %}f{% endif %}",
   "output": "|f"
  }
 ]
}"#;

/// Every case of `vectors` renders as liquidjs rendered it.
fn check_vectors(vectors: &str) {
    let vectors: Value = serde_json::from_str(vectors).expect("vectors parse");
    let data = &vectors["data"];
    let cases = vectors["cases"].as_array().cloned().unwrap_or_default();
    let mut failures = Vec::new();
    for case in &cases {
        let template = case["template"].as_str().unwrap_or_default();
        let got = mapping::transform(&json!({"v": {"@liquid": template}}), data)
            .map(|v| v["v"].as_str().map(str::to_string));
        match (&got, case.get("output").and_then(Value::as_str)) {
            (Ok(Some(g)), Some(want)) if g == want => {}
            (Err(_), None) => {}
            (got, want) => failures.push(format!(
                "{template:?}: got {got:?}, liquidjs gives {want:?}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn liquid_matches_liquidjs() {
    let vectors: Value = serde_json::from_str(LIQUIDJS_VECTORS).expect("vectors parse");
    assert!(vectors["cases"].as_array().map_or(0, Vec::len) >= 80);
    check_vectors(LIQUIDJS_VECTORS);
}

#[test]
fn liquid_matches_liquidjs_on_white_space_and_numbers() {
    check_vectors(LIQUIDJS_JS_RULES_VECTORS);
}

#[test]
fn liquid_matches_liquidjs_on_arithmetic_and_array_likes() {
    check_vectors(LIQUIDJS_ARITHMETIC_VECTORS);
}

#[test]
fn liquid_matches_liquidjs_on_property_reads() {
    check_vectors(LIQUIDJS_PROPERTY_VECTORS);
}
