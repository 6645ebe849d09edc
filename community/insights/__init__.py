"""What the community asks (#22): counts kept as messages pass (`tallies`), a daily rollup with
no text and nobody named (`rollup`), and the weekly figures moderators read, with small counts
suppressed (`report`)."""
