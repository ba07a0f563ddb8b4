#!/usr/bin/env python3
"""Checks that every relative link in Markdown files resolves: the file (or directory) exists
and, with a #fragment, the target has a heading with that GitHub anchor. Links to this
repository's own GitHub pages (--repo-url, e.g. the alert rules' runbook_url) are checked the
same way against the checkout.

  check_links.py [--repo-url URL] [--also FILE]... PATH...

PATH is a Markdown file or a directory (its *.md files); --also FILE scans any text file for
absolute links under --repo-url (e.g. alerts/pgbackup.rules.yml). Prints one line per broken
link ("FILE:LINE: broken link TARGET: why") and exits 1 if there is any.
"""
import argparse
import os
import re
import sys

LINK = re.compile(r'!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
REFERENCE = re.compile(r'^\s*\[[^\]]+\]:\s*(\S+)')
HTML_LINK = re.compile(r'<a\s[^>]*href="([^"]+)"')
FENCE = re.compile(r'^\s*(```|~~~)')
HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')
EXPLICIT_ANCHOR = re.compile(r'<a\s+(?:name|id)="([^"]+)"')


def github_anchor(heading):
    """The id GitHub gives a heading: lowercase, markup and punctuation dropped, spaces to -."""
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # links: their text
    text = re.sub(r'<[^>]+>', '', text)  # inline HTML
    text = text.strip().lower()
    text = re.sub(r'[^\w\- ]', '', text)  # keeps letters, digits, _, -, space
    return text.replace(' ', '-')


def markdown_lines(path):
    """(line number, text) of the lines outside fenced code blocks."""
    inside = False
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if FENCE.match(line):
                inside = not inside
                continue
            if not inside:
                yield number, line


def anchors_of(path, cache={}):
    if path not in cache:
        found, seen = set(), {}
        for _, line in markdown_lines(path):
            found.update(EXPLICIT_ANCHOR.findall(line))
            m = HEADING.match(line)
            if not m:
                continue
            anchor = github_anchor(m.group(2))
            n = seen.get(anchor, 0)
            seen[anchor] = n + 1
            found.add(anchor if n == 0 else '%s-%d' % (anchor, n))
        cache[path] = found
    return cache[path]


def without_inline_code(line):
    return re.sub(r'`[^`]*`', '', line)


def problem(source, target, repo_root):
    """Why `target`, linked from `source`, does not resolve (None when it does)."""
    path, _, fragment = target.partition('#')
    if path.startswith('/'):
        resolved = os.path.normpath(os.path.join(repo_root, path.lstrip('/')))
    elif path:
        resolved = os.path.normpath(os.path.join(os.path.dirname(source), path))
    else:
        resolved = source
    if not os.path.exists(resolved):
        return 'no such file %s' % os.path.relpath(resolved, repo_root)
    if fragment:
        if not resolved.endswith('.md'):
            return None  # anchors into other kinds of file (line numbers...) are not checked
        if fragment not in anchors_of(resolved):
            return 'no heading #%s in %s' % (fragment, os.path.relpath(resolved, repo_root))
    return None


def links_in_markdown(path):
    for number, line in markdown_lines(path):
        text = without_inline_code(line)
        for regex in (LINK, REFERENCE, HTML_LINK):
            for target in regex.findall(text):
                yield number, target


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repo-url', default='')
    parser.add_argument('--also', action='append', default=[])
    parser.add_argument('paths', nargs='+')
    args = parser.parse_args()
    repo_root = os.getcwd()
    files = []
    for p in args.paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith('.md'))
        else:
            files.append(p)
    own = re.compile(re.escape(args.repo_url.rstrip('/')) + r'/(?:blob|tree)/[^/]+/([^\s"\')]+)')

    broken, checked = [], 0
    candidates = [(f, n, t) for f in files for n, t in links_in_markdown(f)]
    for f in args.also:
        with open(f, encoding='utf-8') as text:
            for number, line in enumerate(text, 1):
                for m in own.finditer(line) if args.repo_url else []:
                    candidates.append((f, number, '/' + m.group(1)))
    for source, number, target in candidates:
        if args.repo_url and own.match(target):
            target = '/' + own.match(target).group(1)
        elif re.match(r'^[a-z][a-z0-9+.-]*:', target):
            continue  # http:, https:, mailto: ... are not this repository's
        checked += 1
        why = problem(source, target, repo_root)
        if why:
            broken.append('%s:%d: broken link %s: %s' % (source, number, target, why))
    for line in broken:
        print(line)
    print('%d links checked in %d files, %d broken' % (checked, len(files) + len(args.also),
                                                        len(broken)))
    return 1 if broken else 0


if __name__ == '__main__':
    sys.exit(main())
