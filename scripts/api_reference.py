#!/usr/bin/env python3
#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Writes the API reference (doc/api.md) from the documentation in the public
# headers, read through Doxygen's XML output: the headers are the one copy
# of the contract, and this file is their rendering. Run by
# scripts/reference.sh, never by hand.
#
#   api_reference.py XML_DIR INCLUDE_DIR > doc/api.md

import os
import re
import sys
import xml.etree.ElementTree as ET


def text_of(node):
    return "".join(node.itertext()) if node is not None else ""


class Renderer:
    """Doxygen's description markup to Markdown."""

    def inline(self, node):
        out = node.text or ""
        for child in node:
            out += self.inline_element(child)
            out += child.tail or ""
        return out

    def inline_element(self, node):
        tag = node.tag
        if tag == "computeroutput":
            return "`" + text_of(node) + "`"
        if tag in ("bold",):
            return "**" + self.inline(node) + "**"
        if tag in ("emphasis",):
            return "*" + self.inline(node) + "*"
        if tag == "ref":
            return self.inline(node)
        if tag == "ulink":
            return "[" + self.inline(node) + "](" + node.get("url", "") + ")"
        if tag == "linebreak":
            return "\n"
        if tag == "sp":
            return " "
        # Block elements nested in a paragraph are rendered as blocks.
        return "\n\n" + self.block(node).strip("\n") + "\n\n"

    def block(self, node):
        tag = node.tag
        if tag == "para":
            return self.inline(node).strip() + "\n\n"
        if tag == "itemizedlist" or tag == "orderedlist":
            lines = []
            for i, item in enumerate(node.findall("listitem")):
                body = "".join(self.block(p) for p in item).strip()
                marker = "- " if tag == "itemizedlist" else "%d. " % (i + 1)
                lines.append(marker + body.replace("\n\n", "\n  ").replace("\n", "\n  "))
            return "\n".join(lines) + "\n\n"
        if tag == "programlisting":
            code = []
            for line in node.findall("codeline"):
                code.append(self.code_line(line))
            return "```cpp\n" + "\n".join(code) + "\n```\n\n"
        if tag == "simplesect":
            kind = node.get("kind")
            title = {"return": "Returns", "note": "Note", "see": "See also", "par": None}.get(kind, kind.title())
            if kind == "par":
                title = text_of(node.find("title")).strip()
            body = "".join(self.block(p) for p in node if p.tag != "title")
            if not title:
                return body
            separator = "\n\n" if body.lstrip().startswith(("- ", "```")) else " "
            return "**%s.**" % title + separator + body.lstrip()
        if tag == "parameterlist":
            kind = node.get("kind")
            title = {"param": "Parameters", "exception": "Throws", "templateparam": "Template parameters",
                     "retval": "Returns"}.get(kind, kind)
            rows = []
            for item in node.findall("parameteritem"):
                names = ", ".join("`" + text_of(n).strip() + "`" for n in item.iter("parametername"))
                desc = "".join(self.block(p) for p in item.find("parameterdescription")).strip()
                rows.append("- " + names + ": " + desc.replace("\n\n", "\n  ").replace("\n", "\n  "))
            return "**%s.**\n\n" % title + "\n".join(rows) + "\n\n"
        if tag == "heading":
            return "**" + self.inline(node) + "**\n\n"
        if tag in ("xrefsect",):
            return ""
        return self.inline(node)

    def code_line(self, line):
        out = ""
        for part in line.iter():
            if part is line:
                continue
            if part.tag == "sp":
                out += " "
            elif part.tag == "highlight":
                out += part.text or ""
            else:
                out += part.text or ""
            if part.tag in ("ref",):
                pass
            out += part.tail or "" if part.tag not in ("highlight",) else ""
        return out.rstrip()

    def description(self, member):
        out = ""
        for section in ("briefdescription", "detaileddescription"):
            node = member.find(section)
            if node is None:
                continue
            for child in node:
                out += self.block(child)
        return out.strip() + "\n" if out.strip() else ""


def declaration(member):
    """The member as a user writes it, templates included."""
    kind = member.get("kind")
    name = text_of(member.find("name"))
    template = ""
    params = member.find("templateparamlist")
    if params is not None:
        parts = []
        for p in params.findall("param"):
            t = text_of(p.find("type")).strip()
            n = text_of(p.find("declname")).strip()
            d = text_of(p.find("defval")).strip()
            parts.append((t + " " + n).strip() + (" = " + d if d else ""))
        template = "template <" + ", ".join(parts) + ">\n"
    if kind == "function":
        # Doxygen 1.9 folds a requires-clause into the return type: keep
        # what follows it.
        definition = text_of(member.find("definition")).strip().split("::value ")[-1]
        return template + definition + text_of(member.find("argsstring")).strip()
    if kind == "typedef":
        return template + "using " + name + " = " + text_of(member.find("type")).strip() + ";"
    if kind == "variable":
        return text_of(member.find("definition")).strip() + ";"
    if kind == "enum":
        return "enum class " + name
    return text_of(member.find("definition")).strip()


def documented(member):
    return bool(text_of(member.find("briefdescription")).strip() or
                text_of(member.find("detaileddescription")).strip())


def main():
    xml_dir, include_dir = sys.argv[1], os.path.abspath(sys.argv[2])
    index = ET.parse(os.path.join(xml_dir, "index.xml")).getroot()
    render = Renderer()
    entries = {}  # header -> [(line, markdown)]

    def add(location, markdown):
        path = os.path.relpath(location.get("file"), os.path.dirname(include_dir))
        line = int(location.get("line", "0"))
        entries.setdefault(path, []).append((line, markdown))

    for compound in index.findall("compound"):
        kind = compound.get("kind")
        if kind not in ("namespace", "class", "struct"):
            continue
        doc = ET.parse(os.path.join(xml_dir, compound.get("refid") + ".xml")).getroot().find("compounddef")
        qualified = text_of(doc.find("compoundname"))
        if "detail" in qualified.split("::"):
            continue
        members = [m for s in doc.findall("sectiondef") if not s.get("kind", "").startswith(("private", "protected"))
                   for m in s.findall("memberdef")]
        if kind == "namespace":
            for m in members:
                if not documented(m):
                    continue
                md = "### `%s::%s`\n\n```cpp\n%s\n```\n\n" % (qualified, text_of(m.find("name")), declaration(m))
                md += render.description(m)
                if m.get("kind") == "enum":
                    md += "\n| Value | Meaning |\n|---|---|\n"
                    for v in m.findall("enumvalue"):
                        meaning = " ".join(render.description(v).split())
                        md += "| `%s` | %s |\n" % (text_of(v.find("name")), meaning)
                add(m.find("location"), md + "\n")
        else:
            md = "### `%s`\n\n```cpp\n%s %s\n```\n\n" % (qualified, kind, qualified)
            md += render.description(doc) + "\n"
            for m in members:
                if not documented(m) or m.get("prot") != "public":
                    continue
                md += "#### `%s`\n\n```cpp\n%s\n```\n\n" % (text_of(m.find("name")), declaration(m))
                md += render.description(m) + "\n"
            add(doc.find("location"), md)

    print("# `tfo` API reference\n")
    print("Generated by `scripts/reference.sh` from the documentation in the public")
    print("headers, which are the one copy of the contract; CI fails when this file")
    print("no longer matches them. What the headers cannot say (the kernel's side,")
    print("the tools) is in [reference.md](reference.md).\n")
    for header in sorted(entries):
        print("## `<%s>`\n" % header.replace("include/", "", 1))
        for _, md in sorted(entries[header], key=lambda e: e[0]):
            print(re.sub(r"\n{3,}", "\n\n", md).rstrip() + "\n")


if __name__ == "__main__":
    main()
