"""Your own data: a folder of images and label maps with a condition table (`reader`,
`conditions`), prepared into the prepared format (`prepare`)."""
