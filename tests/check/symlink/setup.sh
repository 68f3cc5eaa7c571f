# Symbolic links: a case file, and a folder of images (links are never followed).
mkdir -p elsewhere/img
cp content/cases/beta.md elsewhere/gamma.md
cp content/cases/img/map.png elsewhere/img/map.png
ln -s ../../elsewhere/gamma.md content/cases/gamma.md
ln -s ../../elsewhere/img content/cases/pictures
