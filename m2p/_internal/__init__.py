"""Helpers shared by the whole package and by no user: the lazy re-exports of each package,
the one atomic writer, the one progress-bar policy, the one ffmpeg binary, the shared argument
validators and message texts. Nothing here is public API."""
