"""The kernel source tree a bisection walks: a git work tree, read and checked out with git."""

import os
import subprocess

from ..core.errors import UserError


def git(source, *args, check=True):
    """git's stdout, stripped; UserError with git's message when it fails and check."""
    try:
        done = subprocess.run(["git", "-C", str(source), *args], capture_output=True,
                              text=True, check=False, stdin=subprocess.DEVNULL)
    except FileNotFoundError as exc:
        raise UserError("git: not found; install git") from exc
    if check and done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise UserError(f"git {args[0]}: {why}")
    return done.stdout.strip() if check or done.returncode == 0 else None


def check_work_tree(source):
    """UserError unless SOURCE is the top of a git work tree with no bisection going on
    and no change to tracked files (a checkout would carry or refuse them)."""
    top = git(source, "rev-parse", "--show-toplevel", check=False)
    if top is None:
        raise UserError(f"{source}: not a git work tree (bisect needs the kernel's history)")
    git_dir = git(source, "rev-parse", "--git-path", "BISECT_START")
    if os.path.exists(os.path.join(source, git_dir)):
        raise UserError(f"{source}: a bisection is already going on there; end it with "
                        "`git bisect reset`")
    dirty = git(source, "status", "--porcelain", "--untracked-files=no")
    if dirty:
        raise UserError(f"{source}: tracked files have changes "
                        f"({dirty.splitlines()[0].strip()}, ...); commit or stash them")


def commit_of(source, rev, what):
    sha = git(source, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if not sha:
        raise UserError(f"{what} {rev}: not a commit of {source}")
    return sha


def is_ancestor(source, older, newer):
    return git(source, "merge-base", "--is-ancestor", older, newer, check=False) is not None


def head(source):
    """What to check out again at the end: the branch's name, else the commit."""
    return (git(source, "symbolic-ref", "-q", "--short", "HEAD", check=False)
            or git(source, "rev-parse", "HEAD"))


def checkout(source, rev):
    """A commit (40 hex digits) detached, else the branch of that name."""
    if len(rev) == 40:
        git(source, "checkout", "-q", "--detach", rev)
    else:
        git(source, "checkout", "-q", rev)


def subject(source, rev):
    return git(source, "log", "-1", "--format=%s", rev, check=False) or ""


def commits_left(source):
    """Commits still to test: between the good marks and the bad mark, the bad one and the
    skipped ones out."""
    def refs(pattern):
        return (git(source, "for-each-ref", "--format=%(refname)", pattern, check=False)
                or "").split()

    count = git(source, "rev-list", "--count", "refs/bisect/bad", "--not",
                *refs("refs/bisect/good-*"), check=False)
    if not count or not count.isdigit():
        return None
    return max(int(count) - 1 - len(refs("refs/bisect/skip-*")), 0)
