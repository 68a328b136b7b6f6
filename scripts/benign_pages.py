#!/usr/bin/env python3
"""Web pages as a fetch tool returns them (raw HTML), for training the classifier.

Why: an agent that reads documentation with `curl` or a fetch tool gets the page's HTML, head and
all, and the head of a page built by a documentation generator is a run of script tags:

    <script src="../_static/documentation_options.js"></script>
    <script src="../_static/jquery.js"></script>
    <script src="../_static/underscore.js"></script> …

No benign training row had a script tag (the attack corpora have many: XSS and exfiltration
payloads), and the classifier read such a run as an attack: the first page of every Sphinx
("Read the Docs" theme) manual installed on the development machine was flagged as a tool output
(0.95 and over), four or more script lines in a row being enough.

The pages are built from the skeletons of nine common generators — Sphinx (Read the Docs theme,
alabaster, furo), MkDocs Material, Docusaurus, Hugo, WordPress, rustdoc and Doxygen — as each
writes its head, navigation and footer, around a few paragraphs of ordinary documentation prose;
project names, titles, versions, paths and asset hashes vary by hash. Pages of one generator share
a `subcategory`, so the trainer weighs the generator, not its copies.

    python3 scripts/benign_pages.py > target/benign_pages.jsonl

Deterministic: choices are made by hashes, never at random.
"""
import hashlib
import json

PAGES_PER_GENERATOR = 24

PROJECTS = ["Acme Widgets", "pyfoo", "Tessera", "gridkit", "Lumen DB", "nimbus-cli", "Orbit", "quartz",
            "Halcyon", "tinyhttp", "Riverbed", "Plinth", "mosaic-ui", "Cobalt", "Fernwood", "sparrow-sdk"]
SECTIONS = ["Installation", "Quickstart", "Configuration", "Tutorial", "API reference", "Changelog",
            "Command-line usage", "Deployment", "Testing", "Contributing", "FAQ", "Migration guide",
            "Logging", "Authentication", "Plugins", "Glossary", "Release notes", "Troubleshooting"]
SENTENCES = [
    "This page describes how to install the package from a release archive or from source.",
    "The configuration file is read once at start-up; changes take effect after a restart.",
    "Each command prints its result to standard output and exits with status 0 on success.",
    "Use the --verbose flag to see every request the client sends and the time it took.",
    "The default settings suit a single machine; see Deployment for a cluster.",
    "All functions in this module are thread-safe unless their documentation says otherwise.",
    "Version 2.0 removed the deprecated options; the migration guide lists their replacements.",
    "Tests run with the standard test runner and need no network access.",
    "A plugin is a Python module that defines a setup() function and registers its hooks.",
    "The cache lives in the user's cache directory and can be removed at any time.",
    "Timestamps are stored in UTC and shown in the local time zone.",
    "See the changelog for the full list of fixes in this release.",
    "The server listens on port 8080 by default; set PORT to change it.",
    "Pull requests are welcome: please open an issue first to discuss larger changes.",
    "Errors are reported with the file name and the line where they occurred.",
    "The search box filters the index as you type.",
    "Examples in this guide assume a Unix shell; on Windows use PowerShell.",
    "Bindings for other languages are maintained in separate repositories.",
]
GENERATORS = ["sphinx_rtd", "sphinx_alabaster", "sphinx_furo", "mkdocs_material", "docusaurus", "hugo",
              "wordpress", "rustdoc", "doxygen"]


def h(s: str) -> int:
    return int(hashlib.sha256(s.encode()).hexdigest()[:12], 16)


def pick(seq, key: str):
    return seq[h(key) % len(seq)]


def hexid(key: str, n: int = 8) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:n]


def anchor(title: str) -> str:
    return title.lower().replace(" ", "-")


def sphinx_section(section: str, body: str, link_title: str) -> str:
    """The page's content as Sphinx writes it: a section with a linked heading."""
    return (f'<section id="{anchor(section)}">\n<h1>{section}<a class="headerlink" href="#{anchor(section)}" '
            f'title="{link_title}">¶</a></h1>\n{body}\n</section>')


def prose(key: str, n: int) -> str:
    return "\n".join(f"<p>{pick(SENTENCES, f'{key}|p{i}')}</p>" for i in range(n))


def page(gen: str, k: int) -> str:
    key = f"{gen}|{k}"
    project = pick(PROJECTS, key + "|project")
    slug = anchor(project)
    section = pick(SECTIONS, key + "|section")
    nxt = pick(SECTIONS, key + "|next")
    prev = pick(SECTIONS, key + "|prev")
    sec_a, nxt_a, prev_a = anchor(section), anchor(nxt), anchor(prev)
    version = f"{h(key + 'v') % 5}.{h(key + 'w') % 20}.{h(key + 'x') % 10}"
    depth = "../" * (h(key + "|depth") % 3)
    body = prose(key, 2 + h(key + "|n") % 4)
    if gen == "sphinx_rtd":
        scripts = ["documentation_options", "jquery", "underscore", "_sphinx_javascript_frameworks_compat",
                   "doctools", "sphinx_highlight", "js/theme"]
        tags = "\n".join(f'        <script src="{depth}_static/{s}.js"></script>' for s in scripts)
        return f"""<!DOCTYPE html>
<html class="writer-html5" lang="en" >
<head>
  <meta charset="utf-8" /><meta name="generator" content="Docutils 0.19: https://docutils.sourceforge.io/" />
  <meta name="viewport" content="width=device-width, initial-scale=1.0" />
  <title>{section} &mdash; {project} {version} documentation</title>
      <link rel="stylesheet" href="{depth}_static/pygments.css" type="text/css" />
      <link rel="stylesheet" href="{depth}_static/css/theme.css" type="text/css" />
{tags}
    <link rel="index" title="Index" href="{depth}genindex.html" />
    <link rel="search" title="Search" href="{depth}search.html" />
    <link rel="next" title="{nxt}" href="{nxt_a}.html" />
    <link rel="prev" title="{prev}" href="{prev_a}.html" />
</head>
<body class="wy-body-for-nav">
  <div class="wy-grid-for-nav">
    <nav data-toggle="wy-nav-shift" class="wy-nav-side">
      <div class="wy-side-scroll">
        <div class="wy-side-nav-search">
          <a href="{depth}index.html" class="icon icon-home">{project}</a>
          <div class="version">{version}</div>
<div role="search">
  <form id="rtd-search-form" class="wy-form" action="{depth}search.html" method="get">
    <input type="text" name="q" placeholder="Search docs" aria-label="Search docs" />
    <input type="hidden" name="check_keywords" value="yes" />
    <input type="hidden" name="area" value="default" />
  </form>
</div>
        </div>
      </div>
    </nav>
    <section data-toggle="wy-nav-shift" class="wy-nav-content-wrap">
      <div class="wy-nav-content"><div class="rst-content"><div role="main" class="document">
{sphinx_section(section, body, 'Permalink to this heading')}
      </div></div></div>
  <footer><p>&#169; Copyright {2015 + h(key + 'y') % 10}, the {project} developers.</p>
  Built with <a href="https://www.sphinx-doc.org/">Sphinx</a> using a
    <a href="https://github.com/readthedocs/sphinx_rtd_theme">theme</a>
    provided by <a href="https://readthedocs.org">Read the Docs</a>.
  </footer>
    </section>
  </div>
  <script>
      jQuery(function () {{
          SphinxRtdTheme.Navigation.enable(true);
      }});
  </script>
</body>
</html>"""
    if gen == "sphinx_alabaster":
        tags = "\n".join(f'    <script src="{depth}_static/{s}.js"></script>'
                         for s in ["documentation_options", "doctools", "sphinx_highlight"])
        return f"""<!DOCTYPE html>
<html lang="en" data-content_root="{depth or './'}">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" /><meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>{section} &#8212; {project} {version} documentation</title>
    <link rel="stylesheet" type="text/css" href="{depth}_static/pygments.css?v=d1102ebc" />
    <link rel="stylesheet" type="text/css" href="{depth}_static/alabaster.css?v={hexid(key, 8)}" />
{tags}
    <link rel="index" title="Index" href="{depth}genindex.html" />
    <link rel="search" title="Search" href="{depth}search.html" />
    <link rel="stylesheet" href="{depth}_static/custom.css" type="text/css" />
  </head><body>
    <div class="document">
      <div class="documentwrapper">
        <div class="bodywrapper">
          <div class="body" role="main">
  {sphinx_section(section, body, 'Link to this heading')}
          </div>
        </div>
      </div>
      <div class="sphinxsidebar" role="navigation" aria-label="Main">
        <div class="sphinxsidebarwrapper">
<h1 class="logo"><a href="{depth}index.html">{project}</a></h1>
<h3>Navigation</h3>
<ul><li class="toctree-l1"><a class="reference internal" href="{depth}install.html">Installation</a></li>
<li class="toctree-l1"><a class="reference internal" href="{depth}api.html">API reference</a></li></ul>
<search id="searchbox" style="display: none" role="search">
    <h3 id="searchlabel">Quick search</h3>
    <form class="search" action="{depth}search.html" method="get">
      <input type="text" name="q" aria-labelledby="searchlabel" autocomplete="off" autocorrect="off" autocapitalize="off" spellcheck="false"/>
      <input type="submit" value="Go" />
    </form>
</search>
<script>document.getElementById('searchbox').style.display = "block"</script>
        </div>
      </div>
      <div class="clearer"></div>
    </div>
    <div class="footer">
      &#169;{2015 + h(key + 'y') % 10}, {project} contributors.
      |
      Powered by <a href="https://www.sphinx-doc.org/">Sphinx 7.{h(key + 's') % 5}.0</a>
      &amp; <a href="https://alabaster.readthedocs.io">Alabaster 0.7.16</a>
    </div>
  </body>
</html>"""
    if gen == "sphinx_furo":
        tags = "\n".join(f'    <script src="{depth}_static/{s}"></script>'
                         for s in ["documentation_options.js?v=" + hexid(key + "d"), "doctools.js?v=888ff710",
                                   "sphinx_highlight.js?v=dc90522c", "scripts/furo.js?v=" + hexid(key + "f"),
                                   "clipboard.min.js?v=a7894cd8", "copybutton.js?v=f281be69"])
        return f"""<!doctype html>
<html class="no-js" lang="en" data-content_root="{depth or './'}">
  <head><meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width,initial-scale=1"/>
    <meta name="color-scheme" content="light dark"><link rel="index" title="Index" href="{depth}genindex.html" /><link rel="search" title="Search" href="{depth}search.html" /><link rel="next" title="{nxt}" href="{nxt_a}.html" />
    <meta name="generator" content="sphinx-7.2.6, furo 2024.01.29"/>
    <title>{section} - {project} {version}</title>
    <link rel="stylesheet" type="text/css" href="{depth}_static/pygments.css?v=a746c00c" />
    <link rel="stylesheet" type="text/css" href="{depth}_static/styles/furo.css?v={hexid(key + 'c')}" />
    <link rel="stylesheet" type="text/css" href="{depth}_static/copybutton.css?v=76b2166b" />
{tags}
  </head>
  <body>
    <script>
      document.body.dataset.theme = localStorage.getItem("theme") || "auto";
    </script>
<div class="page">
  <header class="mobile-header">
    <div class="header-center">
      <a href="{depth}index.html"><div class="brand">{project} {version}</div></a>
    </div>
  </header>
  <aside class="sidebar-drawer">
    <form class="sidebar-search-container" method="get" action="{depth}search.html" role="search">
      <input class="sidebar-search" placeholder="Search" name="q" aria-label="Search">
      <input type="hidden" name="check_keywords" value="yes">
      <input type="hidden" name="area" value="default">
    </form>
  </aside>
  <div class="main">
    <div class="content">
      <article role="main" id="furo-main-content">
          {sphinx_section(section, body, 'Link to this heading')}
      </article>
    </div>
    <footer>
      <div class="bottom-of-page">
        <div class="left-details">
          <div class="copyright">Copyright &#169; {2015 + h(key + 'y') % 10}, {project}</div>
          Made with <a href="https://www.sphinx-doc.org/">Sphinx</a> and <a href="https://pradyunsg.me">@pradyunsg</a>'s
          <a href="https://github.com/pradyunsg/furo">Furo</a>
        </div>
      </div>
    </footer>
  </div>
</div>
  </body>
</html>"""
    if gen == "mkdocs_material":
        return f"""<!doctype html>
<html lang="en" class="no-js">
  <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width,initial-scale=1">
        <meta name="description" content="{project} documentation">
        <link rel="canonical" href="https://{slug}.example.org/{sec_a}/">
        <link rel="prev" href="{depth}{prev_a}/">
        <link rel="next" href="{depth}{nxt_a}/">
      <link rel="icon" href="{depth}assets/images/favicon.png">
      <meta name="generator" content="mkdocs-1.6.0, mkdocs-material-9.5.{h(key + 'm') % 30}">
      <title>{section} - {project}</title>
      <link rel="stylesheet" href="{depth}assets/stylesheets/main.{hexid(key + 'css')}.min.css">
      <link rel="stylesheet" href="{depth}assets/stylesheets/palette.06af60db.min.css">
      <link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>
      <script>__md_scope=new URL("{depth or '.'}",location),__md_hash=e=>[...e].reduce((e,_)=>(e<<5)-e+_.charCodeAt(0),0),__md_get=(e,_=localStorage,t=__md_scope)=>JSON.parse(_.getItem(t.pathname+"."+e)),__md_set=(e,_,t=localStorage,a=__md_scope)=>{{try{{t.setItem(a.pathname+"."+e,JSON.stringify(_))}}catch(e){{}}}}</script>
  </head>
  <body dir="ltr" data-md-color-scheme="default" data-md-color-primary="indigo" data-md-color-accent="indigo">
    <input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" autocomplete="off">
    <input class="md-toggle" data-md-toggle="search" type="checkbox" id="__search" autocomplete="off">
    <label class="md-overlay" for="__drawer"></label>
    <div data-md-component="skip">
        <a href="#{sec_a}" class="md-skip">Skip to content</a>
    </div>
    <header class="md-header" data-md-component="header">
      <nav class="md-header__inner md-grid" aria-label="Header">
        <a href="{depth or './'}" title="{project}" class="md-header__button md-logo" aria-label="{project}" data-md-component="logo"></a>
        <div class="md-header__title" data-md-component="header-title">{project}</div>
      </nav>
    </header>
    <div class="md-container" data-md-component="container">
      <main class="md-main" data-md-component="main">
        <div class="md-content" data-md-component="content">
          <article class="md-content__inner md-typeset">
<h1 id="{sec_a}">{section}</h1>
{body}
          </article>
        </div>
      </main>
      <footer class="md-footer">
        <div class="md-copyright">
          Made with <a href="https://squidfunk.github.io/mkdocs-material/" target="_blank" rel="noopener">Material for MkDocs</a>
        </div>
      </footer>
    </div>
    <div class="md-dialog" data-md-component="dialog"><div class="md-dialog__inner md-typeset"></div></div>
    <script id="__config" type="application/json">{{"base": "{depth or '.'}", "features": ["navigation.tabs", "content.code.copy"], "search": "{depth}assets/javascripts/workers/search.{hexid(key + 's')}.min.js", "translations": {{"clipboard.copied": "Copied to clipboard", "clipboard.copy": "Copy to clipboard", "search.result.none": "No matching documents"}}, "version": null}}</script>
      <script src="{depth}assets/javascripts/bundle.{hexid(key + 'js')}.min.js"></script>
  </body>
</html>"""
    if gen == "docusaurus":
        return f"""<!doctype html>
<html lang="en" dir="ltr" class="docs-wrapper plugin-docs plugin-id-default docs-version-current docs-doc-page" data-has-hydrated="false">
<head>
<meta charset="UTF-8">
<meta name="generator" content="Docusaurus v3.{h(key + 'd') % 6}.0">
<title data-rh="true">{section} | {project}</title><meta data-rh="true" name="viewport" content="width=device-width,initial-scale=1"><meta data-rh="true" name="twitter:card" content="summary_large_image"><meta data-rh="true" property="og:url" content="https://{slug}.example.org/docs/{sec_a}"><meta data-rh="true" name="docusaurus_locale" content="en"><meta data-rh="true" name="docsearch:language" content="en"><meta data-rh="true" name="docusaurus_version" content="current"><meta data-rh="true" name="docusaurus_tag" content="docs-default-current"><meta data-rh="true" property="og:title" content="{section} | {project}"><link data-rh="true" rel="icon" href="/img/favicon.ico"><link data-rh="true" rel="canonical" href="https://{slug}.example.org/docs/{sec_a}"><link rel="alternate" type="application/rss+xml" href="/blog/rss.xml" title="{project} RSS Feed">
<link rel="stylesheet" href="/assets/css/styles.{hexid(key + 'c')}.css">
<script src="/assets/js/runtime~main.{hexid(key + 'r')}.js" defer="defer"></script>
<script src="/assets/js/main.{hexid(key + 'm')}.js" defer="defer"></script>
</head>
<body class="navigation-with-keyboard">
<script>!function(){{function t(t){{document.documentElement.setAttribute("data-theme",t)}}var e=function(){{try{{return new URLSearchParams(window.location.search).get("docusaurus-theme")}}catch(t){{}}}}()||function(){{try{{return window.localStorage.getItem("theme")}}catch(t){{}}}}();t(null!==e?e:"light")}}()</script><div id="__docusaurus"><div role="region" aria-label="Skip to main content"><a class="skipToContent_fXgn" href="#__docusaurus_skipToContent_fallback">Skip to main content</a></div><nav aria-label="Main" class="navbar navbar--fixed-top"><div class="navbar__inner"><div class="navbar__items"><a class="navbar__brand" href="/"><b class="navbar__title text--truncate">{project}</b></a><a aria-current="page" class="navbar__item navbar__link navbar__link--active" href="/docs/intro">Docs</a><a class="navbar__item navbar__link" href="/blog">Blog</a></div></div></nav><div id="__docusaurus_skipToContent_fallback" class="main-wrapper mainWrapper_z2l0"><main class="docMainContainer_TBSr"><div class="container padding-top--md padding-bottom--lg"><article><div class="theme-doc-markdown markdown"><header><h1>{section}</h1></header>
{body}
</div></article><nav class="pagination-nav docusaurus-mt-lg" aria-label="Docs pages"><a class="pagination-nav__link pagination-nav__link--prev" href="/docs/{prev_a}"><div class="pagination-nav__sublabel">Previous</div><div class="pagination-nav__label">{prev}</div></a><a class="pagination-nav__link pagination-nav__link--next" href="/docs/{nxt_a}"><div class="pagination-nav__sublabel">Next</div><div class="pagination-nav__label">{nxt}</div></a></nav></div></main></div><footer class="footer footer--dark"><div class="container container-fluid"><div class="footer__bottom text--center"><div class="footer__copyright">Copyright © {2019 + h(key + 'y') % 6} {project}. Built with Docusaurus.</div></div></div></footer></div>
</body>
</html>"""
    if gen == "hugo":
        tags = "\n".join(f'<script src="{depth}js/{s}"></script>'
                         for s in ["jquery-3.6.0.min.js", "bootstrap.bundle.min.js", "highlight.pack.js",
                                   f"main.{hexid(key + 'h')}.js", "lunr.min.js", "search.js"][: 3 + h(key + "t") % 4])
        return f"""<!DOCTYPE html>
<html lang="en-us">
<head>
  <meta charset="utf-8">
  <meta http-equiv="X-UA-Compatible" content="IE=edge">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="generator" content="Hugo 0.1{h(key + 'g') % 30}.0">
  <title>{section} | {project}</title>
  <link rel="stylesheet" href="{depth}css/bootstrap.min.css">
  <link rel="stylesheet" href="{depth}css/style.css">
  <link rel="alternate" type="application/rss+xml" href="{depth}index.xml" title="{project}">
{tags}
</head>
<body>
<header class="site-header">
  <nav class="navbar navbar-expand-lg">
    <a class="navbar-brand" href="{depth or '/'}">{project}</a>
    <ul class="navbar-nav">
      <li class="nav-item"><a class="nav-link" href="{depth}docs/">Docs</a></li>
      <li class="nav-item"><a class="nav-link" href="{depth}blog/">Blog</a></li>
      <li class="nav-item"><a class="nav-link" href="{depth}about/">About</a></li>
    </ul>
  </nav>
</header>
<main class="container">
<article class="post">
<h1 class="post-title">{section}</h1>
<div class="post-meta">Last updated on {2020 + h(key + 'y') % 6}-0{1 + h(key + 'mo') % 9}-1{h(key + 'da') % 9}</div>
{body}
</article>
</main>
<footer class="site-footer"><p>&copy; {2020 + h(key + 'y') % 6} {project}. Powered by <a href="https://gohugo.io">Hugo</a>.</p></footer>
<script>hljs.initHighlightingOnLoad();</script>
</body>
</html>"""
    if gen == "wordpress":
        ver = f"6.{h(key + 'wp') % 7}.{h(key + 'wq') % 4}"
        return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="profile" href="https://gmpg.org/xfn/11">
<title>{section} &#8211; {project}</title>
<meta name='robots' content='max-image-preview:large' />
<link rel="alternate" type="application/rss+xml" title="{project} &raquo; Feed" href="https://{slug}.example.org/feed/" />
<link rel='stylesheet' id='wp-block-library-css' href='https://{slug}.example.org/wp-includes/css/dist/block-library/style.min.css?ver={ver}' media='all' />
<link rel='stylesheet' id='theme-style-css' href='https://{slug}.example.org/wp-content/themes/twentytwentyone/style.css?ver=2.{h(key + 't') % 4}' media='all' />
<script src="https://{slug}.example.org/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js"></script>
<script src="https://{slug}.example.org/wp-includes/js/jquery/jquery-migrate.min.js?ver=3.4.1" id="jquery-migrate-js"></script>
<link rel="https://api.w.org/" href="https://{slug}.example.org/wp-json/" /><link rel="EditURI" type="application/rsd+xml" title="RSD" href="https://{slug}.example.org/xmlrpc.php?rsd" />
<meta name="generator" content="WordPress {ver}" />
<link rel="canonical" href="https://{slug}.example.org/{sec_a}/" />
</head>
<body class="page-template-default page page-id-{h(key + 'id') % 900} wp-embed-responsive">
<div id="page" class="site">
	<a class="skip-link screen-reader-text" href="#content">Skip to content</a>
	<header id="masthead" class="site-header" role="banner">
		<div class="site-branding"><p class="site-title"><a href="https://{slug}.example.org/" rel="home">{project}</a></p></div>
		<nav id="site-navigation" class="primary-navigation" aria-label="Primary menu">
			<ul id="primary-menu-list" class="menu-wrapper"><li class="menu-item"><a href="https://{slug}.example.org/">Home</a></li><li class="menu-item"><a href="https://{slug}.example.org/blog/">Blog</a></li><li class="menu-item"><a href="https://{slug}.example.org/contact/">Contact</a></li></ul>
		</nav>
	</header>
	<div id="content" class="site-content">
		<main id="main" class="site-main">
<article class="page type-page status-publish hentry">
	<header class="entry-header alignwide"><h1 class="entry-title">{section}</h1></header>
	<div class="entry-content">
{body}
	</div>
</article>
		</main>
	</div>
	<footer id="colophon" class="site-footer"><div class="powered-by">Proudly powered by <a href="https://wordpress.org/">WordPress</a>.</div></footer>
</div>
<script src="https://{slug}.example.org/wp-content/themes/twentytwentyone/assets/js/primary-navigation.js?ver=2.1" id="twenty-twenty-one-primary-navigation-script-js"></script>
<script src="https://{slug}.example.org/wp-content/themes/twentytwentyone/assets/js/responsive-embeds.js?ver=2.1" id="twenty-twenty-one-responsive-embeds-script-js"></script>
</body>
</html>"""
    if gen == "rustdoc":
        crate = slug.replace("-", "_")
        rd = "../" * (1 + h(key + "|depth") % 3)
        return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1.0"><meta name="generator" content="rustdoc"><meta name="description" content="{pick(SENTENCES, key + 'd')}"><title>{section.replace(' ', '')} in {crate} - Rust</title><script>if(window.location.protocol!=="file:")document.head.insertAdjacentHTML("beforeend","SourceSerif4-Regular-6b053e98.ttf.woff2,FiraSans-Regular-0fe48ade.woff2".split(",").map(f=>`<link rel="preload" as="font" type="font/woff2" crossorigin href="{rd}static.files/${{f}}">`).join(""))</script><link rel="stylesheet" href="{rd}static.files/normalize-9960930a.css"><link rel="stylesheet" href="{rd}static.files/rustdoc-{hexid(key + 'rc')}.css"><meta name="rustdoc-vars" data-root-path="{rd}" data-static-root-path="{rd}static.files/" data-current-crate="{crate}" data-themes="" data-resource-suffix="" data-rustdoc-version="1.8{h(key + 'rv') % 10}.0" data-channel="1.8{h(key + 'rv') % 10}.0" data-search-js="search-{hexid(key + 'sj')}.js" data-settings-js="settings-5514c975.js" ><script src="{rd}static.files/storage-{hexid(key + 'st')}.js"></script><script defer src="sidebar-items.js"></script><script defer src="{rd}static.files/main-{hexid(key + 'mj')}.js"></script><noscript><link rel="stylesheet" href="{rd}static.files/noscript-{hexid(key + 'ns')}.css"></noscript><link rel="alternate icon" type="image/png" href="{rd}static.files/favicon-32x32-6580c154.png"><link rel="icon" type="image/svg+xml" href="{rd}static.files/favicon-044be391.svg"></head><body class="rustdoc struct"><a class="skip-main-content" href="#main-content">Skip to main content</a><nav class="mobile-topbar"><button class="sidebar-menu-toggle" title="show sidebar"></button></nav><nav class="sidebar"><div class="sidebar-crate"><h2><a href="{rd}{crate}/index.html">{crate}</a><span class="version">{version}</span></h2></div><div class="sidebar-elems"><section id="rustdoc-toc"><h2 class="location"><a href="#">{section}</a></h2></section></div></nav><div class="sidebar-resizer"></div><main><div class="width-limiter"><rustdoc-search></rustdoc-search><section id="main-content" class="content"><div class="main-heading"><h1>Struct <span class="struct">{section.replace(' ', '')}</span><button id="copy-path" title="Copy item path to clipboard">Copy item path</button></h1><rustdoc-toolbar></rustdoc-toolbar><span class="sub-heading"><a class="src" href="{rd}src/{crate}/lib.rs.html#{h(key + 'l') % 900}">Source</a> </span></div><details class="toggle top-doc" open><summary class="hideme"><span>Expand description</span></summary><div class="docblock">
{body}
</div></details></section></div></main></body></html>"""
    # doxygen
    tags = "\n".join(f'<script type="text/javascript" src="{s}"></script>'
                     for s in ["jquery.js", "dynsections.js", "search/searchdata.js", "search/search.js"])
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "https://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" lang="en-US">
<head>
<meta http-equiv="Content-Type" content="text/xhtml;charset=UTF-8"/>
<meta http-equiv="X-UA-Compatible" content="IE=11"/>
<meta name="generator" content="Doxygen 1.9.{h(key + 'dx') % 9}"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>{project}: {section}</title>
<link href="tabs.css" rel="stylesheet" type="text/css"/>
{tags}
<link href="search/search.css" rel="stylesheet" type="text/css"/>
<link href="doxygen.css" rel="stylesheet" type="text/css" />
</head>
<body>
<div id="top"><!-- do not remove this div, it is closed by doxygen! -->
<div id="titlearea">
<table cellspacing="0" cellpadding="0">
 <tbody>
 <tr id="projectrow">
  <td id="projectalign">
   <div id="projectname">{project}<span id="projectnumber">&#160;{version}</span></div>
  </td>
 </tr>
 </tbody>
</table>
</div>
<!-- end header part -->
<!-- Generated by Doxygen 1.9.{h(key + 'dx') % 9} -->
<script type="text/javascript">
/* @license magnet:?xt=urn:btih:d3d9a9a6595521f9666a5e94cc830dab83b65699&amp;dn=expat.txt MIT */
var searchBox = new SearchBox("searchBox", "search/",'.html');
/* @license-end */
</script>
<script type="text/javascript" src="menudata.js"></script>
<script type="text/javascript" src="menu.js"></script>
<script type="text/javascript">
/* @license magnet:?xt=urn:btih:d3d9a9a6595521f9666a5e94cc830dab83b65699&amp;dn=expat.txt MIT */
$(function() {{
  initMenu('',true,false,'search.php','Search');
  $(document).ready(function() {{ init_search(); }});
}});
/* @license-end */
</script>
<div id="main-nav"></div>
</div><!-- top -->
<div class="header">
  <div class="headertitle"><div class="title">{section}</div></div>
</div><!--header-->
<div class="contents">
<div class="textblock">
{body}
</div></div><!-- contents -->
<hr class="footer"/><address class="footer"><small>
Generated by&#160;<a href="https://www.doxygen.org/index.html"><img class="footer" src="doxygen.svg" width="104" height="31" alt="doxygen"/></a> 1.9.{h(key + 'dx') % 9}
</small></address>
</body>
</html>"""


def main() -> None:
    for gen in GENERATORS:
        for k in range(PAGES_PER_GENERATOR):
            print(json.dumps({"text": page(gen, k), "label": "benign", "category": "web_page",
                              "subcategory": f"page/{gen}", "source": f"generated:{gen}"},
                             ensure_ascii=False))


if __name__ == "__main__":
    main()
