"""``fairfetch keys``: make and show the Ed25519 key that signs requests (Web Bot Auth).

``keys new DIR`` writes the private key (mode 0600) and the public key
directory to publish at ``/.well-known/http-message-signatures-directory`` on
your own site; ``keys show FILE`` prints the key id signatures carry and that
directory again, e.g. to register the crawler with a CDN's verified-bot program.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from crawler.cli.output import console, fail, print_json, print_table


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "keys",
        help="make and show the Ed25519 key that signs requests (Web Bot Auth)",
        description=(
            "Requests signed with HTTP Message Signatures (RFC 9421, Web Bot Auth) let publishers and "
            "CDNs verify that a request really comes from your crawler. Make a key once, publish its "
            "directory on your site, and pass --signing-key/--signature-agent to 'fairfetch crawl'."
        ),
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    new = actions.add_parser("new", help="write a new private key and its public directory into DIR",
                             description="Write DIR/signing-key.jwk (private, mode 0600) and "
                                         "DIR/http-message-signatures-directory.json (public).")
    new.add_argument("dir", metavar="DIR", help="folder for the two files (created if missing)")
    new.add_argument("--force", action="store_true", help="replace an existing key (its identity is lost)")
    new.add_argument("--json", action="store_true", help="print the result as JSON")
    new.set_defaults(func=run_new)
    show = actions.add_parser("show", help="print the key id and public directory of a key file",
                              description="Print the RFC 7638 thumbprint (the keyid signatures carry) "
                                          "and the public key directory of a private key file.")
    show.add_argument("file", metavar="FILE", help="the private key (signing-key.jwk)")
    show.add_argument("--json", action="store_true", help="print the result as JSON")
    show.set_defaults(func=run_show)
    p.set_defaults(func=lambda args: fail("say 'fairfetch keys new DIR' or 'fairfetch keys show FILE'"))


def _publish_hint() -> str:
    from crawler.identity.keys import DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH

    return f"publish the directory at https://YOUR-SITE{DIRECTORY_PATH} as {DIRECTORY_MEDIA_TYPE}"


def run_new(args: argparse.Namespace) -> int:
    from crawler.identity.keys import IdentityError, write_key_files

    try:
        files = write_key_files(args.dir, force=args.force)
    except IdentityError as exc:
        return fail(str(exc))
    result = {"keyid": files.keyid, "signing_key": str(files.key_file),
              "directory": str(files.directory_file), "next": _publish_hint()}
    if args.json:
        print_json(result)
    else:
        print_table("New signing key", ["", ""], [
            ("key id", files.keyid),
            ("private key", f"{files.key_file} (mode 0600: keep it secret, back it up)"),
            ("public directory", str(files.directory_file)),
        ])
        console.print(f"Next: {_publish_hint()}, then crawl with --signing-key {files.key_file} "
                      "--signature-agent https://YOUR-SITE")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from crawler.identity.keys import IdentityError, load_signing_key

    try:
        key = load_signing_key(Path(args.file))
    except IdentityError as exc:
        return fail(str(exc))
    result: dict[str, Any] = {"keyid": key.keyid, "directory": key.directory()}
    if args.json:
        print_json(result)
    else:
        print_table("Signing key", ["", ""], [("key id", key.keyid), ("algorithm", "ed25519")])
        console.print(json.dumps(key.directory(), indent=2), markup=False)
        console.print(_publish_hint())
    return 0
